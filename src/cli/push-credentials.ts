/**
 * `push-credentials` (alias `deploy`): hands the stored chain to a deployed
 * Worker, reads its status back, and marks the local copy handed off so that
 * one refresh-token chain has one owner (SPEC "Commands").
 */
import { Command } from "commander";
import { openCredentialStore } from "./credential-store.js";
import { renderStatus } from "./format.js";
import { obtainLogin } from "./login.js";
import { fetchWorkerStatus, normaliseWorkerUrl, pushCredentials, resolveAdminKey } from "./worker-client.js";

export interface PushOptions {
  workerUrl: string;
  adminKey?: string;
  login?: boolean;
  keepLocal?: boolean;
  json?: boolean;
}

export async function runPushCredentials(options: PushOptions, env = process.env, now = Date.now): Promise<number> {
  const url = normaliseWorkerUrl(options.workerUrl);
  const key = await resolveAdminKey(options.adminKey, env);
  const store = openCredentialStore(env);

  // --login: a fresh chain that only the Worker will hold.
  const credentials = options.login ? await obtainLogin({ browser: true }, env) : await store.get();
  if (!credentials) {
    process.stderr.write("No stored credentials to push. Run `codex-proxy login` first, or use `push-credentials --login`.\n");
    return 1;
  }
  if (!credentials.refreshToken) {
    process.stderr.write("The stored credentials have no refresh token, so the Worker could not keep them alive. Log in again with `codex-proxy login`.\n");
    return 1;
  }
  if (!options.login && credentials.handedOffTo && credentials.handedOffTo !== url) {
    process.stderr.write(`Warning: this chain was already handed off to ${credentials.handedOffTo}; it may have been rotated there since.\n`);
  }

  await pushCredentials(url, key, {
    accessToken: credentials.accessToken,
    refreshToken: credentials.refreshToken,
    expiresAt: credentials.expiresAt,
    userID: credentials.userId,
    accountId: credentials.accountId,
  });
  const status = await fetchWorkerStatus(url, key);

  if (!options.login) {
    if (options.keepLocal) {
      process.stderr.write(
        "Warning: --keep-local: this machine and the Worker now refresh the same chain. Whichever refreshes second gets refresh_token_reused and must log in again.\n",
      );
    } else {
      await store.set({ ...credentials, handedOffTo: url, handedOffAt: now() });
    }
  }
  if (options.json) {
    process.stdout.write(JSON.stringify(status, null, 2) + "\n");
  } else {
    process.stdout.write(`Pushed the credentials to ${url}.\n${renderStatus(status, now(), { source: url })}\n`);
    if (!options.login && !options.keepLocal) process.stdout.write(`The local copy is handed off to ${url} and will not be refreshed here; \`codex-proxy login\` starts a new local chain.\n`);
  }
  return status.hasCredentials && !status.isExpired ? 0 : 1;
}

export function pushCredentialsCommand(): Command {
  return new Command("push-credentials")
    .alias("deploy")
    .description("Push the stored credentials to a deployed Cloudflare Worker and hand the token chain over to it")
    .requiredOption("--worker-url <url>", "URL of the deployed Worker")
    .option("--admin-key <key>", "the Worker's ADMIN_API_KEY (else $ADMIN_API_KEY, else a prompt)")
    .option("--login", "run a fresh login whose tokens go to the Worker only")
    .option("--keep-local", "keep refreshing the local copy too (both sides then rotate one chain: not recommended)")
    .option("--json", "print the Worker's status as JSON")
    .action(async (options: PushOptions) => {
      process.exitCode = await runPushCredentials(options);
    });
}
