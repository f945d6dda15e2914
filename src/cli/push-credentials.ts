/**
 * `push-credentials` (alias `deploy`): hands the stored chain to a deployed
 * Worker, reads its status back, and marks the local copy handed off so that
 * one refresh-token chain has one owner (see the README, "Commands").
 */
import type { EnvRecord } from "../core/config.js";
import { checkAccountName, DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import { type CredentialStatus, type StoredCredentials, underCredentialLock } from "../credentials/types.js";
import type { AccountSummary } from "../pool/types.js";
import { openAccountDirectory } from "./credential-store.js";
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
  /** The pool's account to push (its local file, and the name the Worker stores it under). */
  name?: string;
}

/** A chain already handed off has most likely been rotated by its new owner: pushing the old copy would break it. */
function refuseHandedOff(credentials: StoredCredentials, options: PushOptions, name: string): void {
  if (!credentials.handedOffTo || options.force) return;
  const when = credentials.handedOffAt ? ` on ${new Date(credentials.handedOffAt).toISOString()}` : "";
  const nameFlag = name === DEFAULT_ACCOUNT ? "" : ` --name ${name}`;
  throw new WorkerError(
    `The local credentials${nameFlag ? ` of account "${name}"` : ""} were already handed off to ${credentials.handedOffTo}${when}; that Worker has probably ` +
      "rotated them since, and pushing this old copy would replace a working chain with a spent one. " +
      `Run \`codex-proxy login${nameFlag}\` to start a new chain and push that, or use \`push-credentials --login${nameFlag}\`. (--force pushes anyway.)`,
  );
}

/** The Worker's entry for a named account, from the `accounts` list of its status (absent on an older Worker). */
function accountEntry(status: CredentialStatus, name: string): AccountSummary | undefined {
  const accounts = (status as { accounts?: unknown }).accounts;
  return Array.isArray(accounts)
    ? (accounts as AccountSummary[]).find((entry) => entry && entry.name === name)
    : undefined;
}

/**
 * A Worker that predates account pools ignores `?account=` and would replace its default chain with
 * this one: refused unless its status lists accounts.
 */
function refuseOldWorker(status: CredentialStatus, url: string): void {
  if (Array.isArray((status as { accounts?: unknown }).accounts)) return;
  throw new WorkerError(
    `The Worker at ${url} does not list accounts in its status, so it predates account pools and would store a named account as its only one. Deploy the current version first.`,
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
  const name = options.name === undefined ? DEFAULT_ACCOUNT : checkAccountName(options.name);
  const url = normaliseWorkerUrl(options.workerUrl);
  const key = await resolveAdminKey(options.adminKey, env, io);
  const store = options.login ? undefined : openAccountDirectory(env).open(name);

  // Check the URL and key (and, for a named account, that the Worker knows accounts) before
  // spending a login, or marking a local chain handed off, on a Worker that cannot take it.
  if (options.login || name !== DEFAULT_ACCOUNT) {
    const before = await fetchWorkerStatus(url, key);
    if (name !== DEFAULT_ACCOUNT) refuseOldWorker(before, url);
  }
  let credentials: StoredCredentials | undefined;
  if (options.login) {
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
      const nameFlag = name === DEFAULT_ACCOUNT ? "" : ` --name ${name}`;
      io.stderr.write(
        `No stored credentials${nameFlag ? ` for account "${name}"` : ""} to push. Run \`codex-proxy login${nameFlag}\` first, or use \`push-credentials --login${nameFlag}\`.\n`,
      );
      return 1;
    }
    refuseHandedOff(credentials, options, name);
  }
  if (!credentials.refreshToken) {
    io.stderr.write(
      "These credentials have no refresh token, so the Worker could not keep them alive. Log in again with `codex-proxy login`.\n",
    );
    return 1;
  }

  await pushCredentials(
    url,
    key,
    {
      accessToken: credentials.accessToken,
      refreshToken: credentials.refreshToken,
      expiresAt: credentials.expiresAt,
      userID: credentials.userId,
      accountId: credentials.accountId,
    },
    name === DEFAULT_ACCOUNT ? undefined : name,
  );
  const status = await fetchWorkerStatus(url, key);
  const entry = name === DEFAULT_ACCOUNT ? undefined : accountEntry(status, name);

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
    const nameFlag = name === DEFAULT_ACCOUNT ? "" : ` --name ${name}`;
    handOff = `The local copy is handed off to ${url} and will not be refreshed here; \`codex-proxy login${nameFlag}\` starts a new local chain.\n`;
  }
  if (options.json) {
    io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  } else if (name === DEFAULT_ACCOUNT) {
    io.stdout.write(`Pushed the credentials to ${url}.\n${renderStatus(status, now(), { source: url })}\n${handOff}`);
  } else {
    const state = entry
      ? `: ${entry.state}${entry.email ? `, ${entry.email}` : ""}${entry.plan ? `, plan ${entry.plan}` : ""}`
      : "";
    io.stdout.write(`Pushed account "${name}" to ${url}${state}.\n${handOff}`);
  }
  if (options.login && !options.json)
    io.stdout.write("The new login went to the Worker only; the local credentials are unchanged.\n");
  if (name !== DEFAULT_ACCOUNT) return entry && (entry.expiresAt === undefined || entry.expiresAt > now()) ? 0 : 1;
  return status.hasCredentials && !status.isExpired ? 0 : 1;
}
