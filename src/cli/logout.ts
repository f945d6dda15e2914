/** `codex-proxy logout`: removes the stored credentials, revoking them upstream when it can. */
import { rm } from "node:fs/promises";
import { revokeToken } from "../auth/oauth-client.js";
import { loadConfig, type EnvRecord } from "../core/config.js";
import { underCredentialLock, type StoredCredentials } from "../credentials/types.js";
import { CredentialFileError } from "../node/conf-store.js";
import { checkAccountName, DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import { AccountError, removeAccount } from "./accounts.js";
import { openCredentialStore } from "./credential-store.js";
import { type CliIO, resolveIO } from "./io.js";

/** A file that cannot be read holds nothing logout could revoke; removing it is the way out. */
async function removeUnreadable(error: CredentialFileError, stdout: NodeJS.WritableStream): Promise<number> {
  if (!error.path) throw error;
  await rm(error.path, { force: true });
  stdout.write(
    `The credential file ${error.path} could not be read (it is corrupt), so nothing could be revoked; removed it. Run \`codex-proxy login\` to sign in again.\n`,
  );
  return 0;
}

export interface LogoutOptions {
  /** One named account instead of the default one. */
  name?: string;
}

export async function runLogout(
  env: EnvRecord = process.env,
  io: CliIO = {},
  options: LogoutOptions = {},
): Promise<number> {
  const { stdout, stderr } = resolveIO(io);
  const name = options.name === undefined ? DEFAULT_ACCOUNT : checkAccountName(options.name);
  if (name !== DEFAULT_ACCOUNT) {
    try {
      stdout.write(`${await removeAccount(name, env)}\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof AccountError)) throw error;
      stderr.write(`${error.message}\n`);
      return 1;
    }
  }
  let store: ReturnType<typeof openCredentialStore>;
  let credentials: StoredCredentials | undefined;
  try {
    store = openCredentialStore(env);
    // Under the lock: a refresh in flight finishes first, so the token revoked is the newest one
    // and the refresh cannot put the credentials back afterwards. Clearing also removes the file.
    credentials = await underCredentialLock(store, async () => {
      const stored = await store.get();
      await store.clear();
      return stored;
    });
  } catch (error) {
    if (error instanceof CredentialFileError) return removeUnreadable(error, stdout);
    throw error;
  }
  if (!credentials) {
    stdout.write(`No stored credentials (${store.path}); nothing to do.\n`);
    return 0;
  }
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
