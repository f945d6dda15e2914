/** `codex-proxy logout`: removes the stored credentials, revoking them upstream when it can. */
import { Command } from "commander";
import { revokeToken } from "../auth/oauth-client.js";
import { type EnvRecord, loadConfig } from "../core/config.js";
import { openCredentialStore } from "./credential-store.js";
import { type CliIO, type CommandContext, processIO } from "./io.js";

/** @public The command without argv, for callers other than its commander action (tests, a lazy command tree). */
export async function runLogout(env: EnvRecord = process.env, io: CliIO = processIO()): Promise<number> {
  const store = openCredentialStore(env);
  const credentials = await store.get();
  if (!credentials) {
    io.stdout.write(`No stored credentials (${store.path}); nothing to do.\n`);
    return 0;
  }
  await store.clear();
  // A chain handed off to a Worker is the Worker's now: revoking it would break the Worker.
  const revoke = credentials.refreshToken && !credentials.handedOffTo;
  const revoked = revoke
    ? await revokeToken(globalThis.fetch, loadConfig(env).authIssuer, credentials.refreshToken!)
    : false;
  io.stdout.write(
    `Removed the stored credentials from ${store.path}${revoke ? (revoked ? " and revoked them." : " (could not reach the issuer to revoke them).") : "."}\n`,
  );
  return 0;
}

export function logoutCommand({ io, env, setExitCode }: CommandContext): Command {
  return new Command("logout")
    .description("Remove the stored credentials (best-effort revoke upstream)")
    .action(async () => {
      setExitCode(await runLogout(env, io));
    });
}
