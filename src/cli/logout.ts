/** `codex-proxy logout`: removes the stored credentials, revoking them upstream when it can. */
import { revokeToken } from "../auth/oauth-client.js";
import { loadConfig } from "../core/config.js";
import { openCredentialStore } from "./credential-store.js";

export async function runLogout(env = process.env): Promise<number> {
  const store = openCredentialStore(env);
  const credentials = await store.get();
  if (!credentials) {
    process.stdout.write(`No stored credentials (${store.path}); nothing to do.\n`);
    return 0;
  }
  await store.clear();
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
