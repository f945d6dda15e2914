/**
 * `push-credentials` (alias `deploy`): hands the stored chain to a deployed
 * Worker, reads its status back, and marks the local copy handed off so that
 * one refresh-token chain has one owner (see the README, "Commands").
 */
import type { EnvRecord } from "../core/config.js";
import { type StoredCredentials, underCredentialLock } from "../credentials/types.js";
import { openCredentialStore } from "./credential-store.js";
import { renderStatus } from "./format.js";
import { type CliIO, resolveIO } from "./io.js";
import { obtainLogin } from "./login.js";
import {
  fetchWorkerStatus,
  normaliseWorkerUrl,
  pushCredentials,
  resolveAdminKey,
  WorkerError,
} from "./worker-client.js";

/** @public The options of the command's run function (what commander parses from argv). */
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
    `The local credentials were already handed off to ${credentials.handedOffTo}${when}; that Worker has probably ` +
      "rotated them since, and pushing this old copy would replace a working chain with a spent one. " +
      "Run `codex-proxy login` to start a new chain and push that, or use `push-credentials --login`. (--force pushes anyway.)",
  );
}

/** @public The command without argv, for callers other than its commander action (tests, a lazy command tree). */
export async function runPushCredentials(
  options: PushOptions,
  env: EnvRecord = process.env,
  now = Date.now,
  cliIO: CliIO = {},
): Promise<number> {
  const io = resolveIO(cliIO);
  const url = normaliseWorkerUrl(options.workerUrl);
  const key = await resolveAdminKey(options.adminKey, env, io);
  const store = options.login ? undefined : openCredentialStore(env);

  let credentials: StoredCredentials | undefined;
  if (options.login) {
    // Check the URL and key before spending a login on a Worker that cannot take it.
    await fetchWorkerStatus(url, key);
    // A fresh chain that only the Worker will hold: nothing is written locally.
    // With --json, stdout carries only the JSON: the sign-in instructions go to stderr.
    credentials = await obtainLogin({ device: options.device, browser: options.browser }, env, {
      ...io,
      now,
      out: options.json ? io.stderr : io.stdout,
    });
  } else {
    credentials = await store!.get();
    if (!credentials) {
      io.stderr.write(
        "No stored credentials to push. Run `codex-proxy login` first, or use `push-credentials --login`.\n",
      );
      return 1;
    }
    refuseHandedOff(credentials, options);
  }
  if (!credentials.refreshToken) {
    io.stderr.write(
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
    io.stderr.write(
      "Warning: --keep-local: this machine and the Worker now refresh the same chain. " +
        "Whichever refreshes second gets refresh_token_reused and must log in again.\n",
    );
  } else if (store) {
    // Under the lock, from the newest copy: a refresh in flight must not undo the hand-off.
    const handedOff = await underCredentialLock(store, async () => {
      const latest = (await store.get()) ?? credentials;
      await store.set({ ...latest, handedOffTo: url, handedOffAt: now() });
      return latest;
    });
    if (handedOff.refreshToken !== credentials.refreshToken)
      io.stderr.write(
        "Warning: the local login was refreshed while it was being pushed; push again to hand over the newest tokens.\n",
      );
    handOff = `The local copy is handed off to ${url} and will not be refreshed here; \`codex-proxy login\` starts a new local chain.\n`;
  }
  if (options.json) {
    io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  } else {
    io.stdout.write(`Pushed the credentials to ${url}.\n${renderStatus(status, now(), { source: url })}\n${handOff}`);
    if (options.login) io.stdout.write("The new login went to the Worker only; the local credentials are unchanged.\n");
  }
  return status.hasCredentials && !status.isExpired ? 0 : 1;
}
