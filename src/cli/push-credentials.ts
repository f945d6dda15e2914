/**
 * `push-credentials` (alias `deploy`): hands the stored chain to a deployed
 * Worker, reads its status back, and marks the local copy handed off so that
 * one refresh-token chain has one owner (see the README, "Commands").
 */
import type { StoredCredentials } from "../credentials/types.js";
import { openCredentialStore } from "./credential-store.js";
import { renderStatus } from "./format.js";
import { obtainLogin } from "./login.js";
import {
  fetchWorkerStatus,
  normaliseWorkerUrl,
  pushCredentials,
  resolveAdminKey,
  WorkerError,
} from "./worker-client.js";

export interface PushOptions {
  workerUrl: string;
  adminKey?: string;
  login?: boolean;
  /** With --login: device-code login instead of the browser. */
  device?: boolean;
  /** With --login: print the sign-in URL instead of opening a browser (false = --no-browser). */
  browser?: boolean;
  keepLocal?: boolean;
  force?: boolean;
  json?: boolean;
}

/** A chain already handed off has most likely been rotated by its new owner: pushing the old copy would break it. */
function refuseHandedOff(credentials: StoredCredentials, options: PushOptions): void {
  if (!credentials.handedOffTo || options.force) return;
  const when = credentials.handedOffAt ? ` on ${new Date(credentials.handedOffAt).toISOString()}` : "";
  throw new WorkerError(
    `The local credentials were already handed off to ${credentials.handedOffTo}${when}; that Worker has probably rotated them since, and pushing this old copy would replace a working chain with a spent one. ` +
      "Run `codex-proxy login` to start a new chain and push that, or use `push-credentials --login`. (--force pushes anyway.)",
  );
}

export async function runPushCredentials(options: PushOptions, env = process.env, now = Date.now): Promise<number> {
  const url = normaliseWorkerUrl(options.workerUrl);
  const key = await resolveAdminKey(options.adminKey, env);
  const store = options.login ? undefined : openCredentialStore(env);

  let credentials: StoredCredentials | undefined;
  if (options.login) {
    // Check the URL and key before spending a login on a Worker that cannot take it.
    await fetchWorkerStatus(url, key);
    // A fresh chain that only the Worker will hold: nothing is written locally.
    // With --json, stdout carries only the JSON: the sign-in instructions go to stderr.
    credentials = await obtainLogin({ device: options.device, browser: options.browser }, env, {
      out: options.json ? process.stderr : process.stdout,
    });
  } else {
    credentials = await store!.get();
    if (!credentials) {
      process.stderr.write(
        "No stored credentials to push. Run `codex-proxy login` first, or use `push-credentials --login`.\n",
      );
      return 1;
    }
    refuseHandedOff(credentials, options);
  }
  if (!credentials.refreshToken) {
    process.stderr.write(
      "These credentials have no refresh token, so the Worker could not keep them alive. Log in again with `codex-proxy login`.\n",
    );
    return 1;
  }

  await pushCredentials(url, key, {
    accessToken: credentials.accessToken,
    refreshToken: credentials.refreshToken,
    expiresAt: credentials.expiresAt,
    userID: credentials.userId,
    accountId: credentials.accountId,
  });
  const status = await fetchWorkerStatus(url, key);

  let handOff = "";
  if (store && options.keepLocal) {
    process.stderr.write(
      "Warning: --keep-local: this machine and the Worker now refresh the same chain. Whichever refreshes second gets refresh_token_reused and must log in again.\n",
    );
  } else if (store) {
    await store.set({ ...credentials, handedOffTo: url, handedOffAt: now() });
    handOff = `The local copy is handed off to ${url} and will not be refreshed here; \`codex-proxy login\` starts a new local chain.\n`;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  } else {
    process.stdout.write(
      `Pushed the credentials to ${url}.\n${renderStatus(status, now(), { source: url })}\n${handOff}`,
    );
    if (options.login)
      process.stdout.write("The new login went to the Worker only; the local credentials are unchanged.\n");
  }
  return status.hasCredentials && !status.isExpired ? 0 : 1;
}
