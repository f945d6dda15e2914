/** `codex-proxy logout`: removes the stored credentials, revoking them upstream when it can. */
import { rm } from "node:fs/promises";
import { Command } from "commander";
import { revokeToken } from "../auth/oauth-client.js";
import { loadConfig, type EnvRecord } from "../core/config.js";
import { CredentialFileError } from "../node/conf-store.js";
import { openCredentialStore } from "./credential-store.js";
import { resolveIO, type CliIO } from "./io.js";

/** A file that cannot be read holds nothing logout could revoke; removing it is the way out. */
async function removeUnreadable(error: CredentialFileError, stdout: NodeJS.WritableStream): Promise<number> {
  if (!error.path) throw error;
  await rm(error.path, { force: true });
  stdout.write(
    `The credential file ${error.path} could not be read (it is corrupt), so nothing could be revoked; removed it. Run \`codex-proxy login\` to sign in again.\n`,
  );
  return 0;
}

export async function runLogout(env: EnvRecord = process.env, io: CliIO = {}): Promise<number> {
  const { stdout } = resolveIO(io);
  let store: ReturnType<typeof openCredentialStore>;
  let credentials: Awaited<ReturnType<typeof store.get>>;
  try {
    store = openCredentialStore(env);
    credentials = await store.get();
  } catch (error) {
    if (error instanceof CredentialFileError) return removeUnreadable(error, stdout);
    throw error;
  }
  if (!credentials) {
    // Nothing to revoke, but leave no empty file behind either.
    await store.clear();
    stdout.write(`No stored credentials (${store.path}); nothing to do.\n`);
    return 0;
  }
  await store.clear();
  // A chain handed off to a Worker is the Worker's now: revoking it would break the Worker.
  const revoke = credentials.refreshToken && !credentials.handedOffTo;
  const revoked = revoke
    ? await revokeToken(globalThis.fetch, loadConfig(env).authIssuer, credentials.refreshToken!)
    : false;
  stdout.write(
    `Removed the stored credentials from ${store.path}${revoke ? (revoked ? " and revoked them." : " (could not reach the issuer to revoke them).") : "."}\n`,
  );
  return 0;
}

export function logoutCommand(): Command {
  return new Command("logout")
    .description("Remove the stored credentials (best-effort revoke upstream)")
    .action(async () => {
      process.exitCode = await runLogout();
    });
}
