/** `codex-proxy logout`: removes the stored credentials, revoking them upstream when it can. */
import { Command } from "commander";
import { revokeToken } from "../auth/oauth-client.js";
import { loadConfig } from "../core/config.js";
import { underCredentialLock } from "../credentials/types.js";
import { openCredentialStore } from "./credential-store.js";

export async function runLogout(env = process.env): Promise<number> {
  const store = openCredentialStore(env);
  // Under the lock: a refresh in flight finishes first, so the token revoked is the newest one
  // and the refresh cannot put the credentials back afterwards.
  const credentials = await underCredentialLock(store, async () => {
    const stored = await store.get();
    if (stored) await store.clear();
    return stored;
  });
  if (!credentials) {
    process.stdout.write(`No stored credentials (${store.path}); nothing to do.\n`);
    return 0;
  }
  // A chain handed off to a Worker is the Worker's now: revoking it would break the Worker.
  const revoke = credentials.refreshToken && !credentials.handedOffTo;
  const revoked = revoke
    ? await revokeToken(globalThis.fetch, loadConfig(env).authIssuer, credentials.refreshToken!)
    : false;
  process.stdout.write(
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
