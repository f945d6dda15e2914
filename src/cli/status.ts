/**
 * `codex-proxy status`: reads the credentials `serve` would use (never
 * refreshes) and shows them in the admin status shape; `--worker-url` reads a
 * Worker's. ACCESS_TOKEN in the environment wins over the stored login, as
 * it does for `serve`.
 */
import { decodeJwtClaims } from "../auth/jwt.js";
import { type RateLimitSnapshot, windowsOf } from "../codex/rate-limits.js";
import type { EnvRecord } from "../core/config.js";
import { parseEpochMs } from "../core/time.js";
import { credentialsFromEnv } from "../credentials/env-store.js";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import { credentialStatus, type CredentialStatus, type StoredCredentials } from "../credentials/types.js";
import { CredentialFileError } from "../node/conf-store.js";
import type { AccountSummary } from "../pool/types.js";
import { type AccountReading, readAccounts } from "./account-summaries.js";
import { openAccountDirectory, openPoolUsage } from "./credential-store.js";
import { inWords, renderStatus, unusableReason, usageBars } from "./format.js";
import { type CliIO, resolveIO } from "./io.js";
import { readWorkerStatus } from "./worker-status.js";

export interface StatusOptions {
  json?: boolean;
  workerUrl?: string;
  adminKey?: string;
}

interface Reading {
  credentials: StoredCredentials | undefined;
  source: string;
  fromEnv: boolean;
  /** Why the expiry is not known (a non-JWT ACCESS_TOKEN without EXPIRES_AT). */
  expiryUnknown?: string;
  rateLimits?: RateLimitSnapshot;
}

function readEnvironment(env: EnvRecord, now: number, storePath: string | undefined): Reading | undefined {
  const credentials = credentialsFromEnv(env, now);
  if (!credentials) return undefined;
  const expiresAt = env.EXPIRES_AT?.trim() ? parseEpochMs(env.EXPIRES_AT) : undefined;
  const hasExp = typeof decodeJwtClaims(credentials.accessToken)?.exp === "number";
  const known = (expiresAt && "ms" in expiresAt) || hasExp;
  const ignored = storePath ? `; the stored login in ${storePath} is ignored while it is set` : "";
  return {
    credentials,
    fromEnv: true,
    source: `ACCESS_TOKEN from the environment (what \`serve\` uses${ignored})`,
    expiryUnknown: known
      ? undefined
      : decodeJwtClaims(credentials.accessToken)
        ? "the ACCESS_TOKEN JWT has no exp claim: expiry unknown (set EXPIRES_AT to give it)"
        : "ACCESS_TOKEN is not a JWT: expiry unknown (set EXPIRES_AT to give it)",
  };
}

/** The status JSON: the admin shape, plus `source`, `error` and `warning` when there is something to say. */
function statusJson(status: CredentialStatus, reading: Reading, error: string | undefined): Record<string, unknown> {
  const json: Record<string, unknown> = { ...status };
  if (reading.fromEnv) json.source = "environment";
  if (reading.expiryUnknown && status.hasCredentials) {
    Object.assign(json, { expiresAt: null, minutesUntilExpiry: null, isExpired: null, needsRefreshSoon: null });
    json.warning = reading.expiryUnknown;
  }
  if (error) json.error = error;
  // A snapshot saved by an older version (windows by slot) is shown in the current shape.
  if (reading.rateLimits) json.rateLimits = { ...reading.rateLimits, windows: windowsOf(reading.rateLimits) };
  return json;
}

/** Today's rule for one login: present, renewable and not expired (or of unknown expiry). */
function loginUsable(status: CredentialStatus, problem: string | undefined, expiryUnknown?: string): boolean {
  if (!status.hasCredentials || problem) return false;
  return Boolean(expiryUnknown) || !status.isExpired;
}

/** The pool's view of the default account when its login comes from ACCESS_TOKEN (no file, no disable). */
function environmentSummary(reading: Reading, usable: boolean, problem: string | undefined): AccountReading {
  const credentials = reading.credentials!;
  const summary: AccountReading["summary"] = {
    name: DEFAULT_ACCOUNT,
    path: "ACCESS_TOKEN (environment)",
    state: usable ? "ready" : "needs_login",
  };
  if (!usable) summary.reason = problem ?? "the ACCESS_TOKEN has expired";
  if (credentials.email) summary.email = credentials.email;
  if (credentials.plan) summary.plan = credentials.plan;
  if (!reading.expiryUnknown) summary.expiresAt = credentials.expiresAt;
  return { summary, credentials };
}

/** Why an account is out of rotation or waiting, in one line for `status` (undefined when ready). */
function stateLine(summary: AccountSummary, now: number): string | undefined {
  const until =
    summary.cooldownUntil !== undefined
      ? ` until ${new Date(summary.cooldownUntil).toLocaleString()} (${inWords(summary.cooldownUntil - now)})`
      : "";
  switch (summary.state) {
    case "ready":
    case "unreadable":
      return undefined;
    case "cooling_down":
      return `  COOLING DOWN${until}: ${summary.reason ?? "reached its usage limit"}`;
    case "backing_off":
      return `  BACKING OFF${until}: ${summary.reason ?? "the backend failed"}`;
    default:
      return `  OUT OF ROTATION (${summary.state.replace("_", " ")}): ${summary.reason ?? summary.state}`;
  }
}

/** One account's block: the login as `status` always showed it, its pool state, and its usage as bars. */
function accountBlock(reading: AccountReading, now: number, source: string, expiryUnknown?: string): string {
  const { summary, credentials } = reading;
  if (summary.state === "unreadable") return `Account "${summary.name}": ${summary.reason}`;
  const status = credentialStatus(credentials, now);
  const problem = unusableReason(status, now, Boolean(credentials?.refreshToken));
  const lines = [renderStatus(status, now, { source, problem, expiryUnknown })];
  const state = stateLine(summary, now);
  // needs_login repeats the UNUSABLE line renderStatus already printed.
  if (state && !(summary.state === "needs_login" && problem)) lines.push(state);
  lines.push(...usageBars(summary.rateLimits, now));
  return lines.join("\n");
}

/**
 * Prints every account's status; returns the exit code: 0 while any account can serve (present,
 * renewable, not expired, enabled and not cooling down), 1 when none can.
 */
export async function runStatus(options: StatusOptions, env: EnvRecord = process.env, io: CliIO = {}): Promise<number> {
  const { stdout, stderr, now: clock } = resolveIO(io);
  if (options.workerUrl)
    return readWorkerStatus({ workerUrl: options.workerUrl, adminKey: options.adminKey, json: options.json }, env, {
      stdout,
      now: clock(),
    });
  const now = clock();
  const directory = openAccountDirectory(env);
  const usage = openPoolUsage(directory);
  const readings = await readAccounts(directory, usage, now);

  // The default account, as `status` has always shown it: ACCESS_TOKEN wins over the stored login.
  let reading: Reading | undefined;
  let defaultError: CredentialFileError | undefined;
  try {
    const store = directory.defaultStore;
    reading = readEnvironment(env, now, store.path) ?? {
      credentials: await store.get(),
      source: store.path,
      fromEnv: false,
      rateLimits: (await usage.get(DEFAULT_ACCOUNT))?.rateLimits,
    };
  } catch (error) {
    if (!(error instanceof CredentialFileError)) throw error;
    // serve would still run on ACCESS_TOKEN; otherwise the default account is unusable until the file is fixed or removed.
    defaultError = error;
    reading = readEnvironment(env, now, undefined);
  }
  const status = reading ? credentialStatus(reading.credentials, now) : undefined;
  const problem =
    status?.hasCredentials && reading
      ? unusableReason(status, now, Boolean(reading.credentials?.refreshToken))
      : undefined;
  if (reading?.fromEnv && status) {
    const summary = environmentSummary(reading, loginUsable(status, problem, reading.expiryUnknown), problem);
    const at = readings.findIndex((entry) => entry.summary.name === DEFAULT_ACCOUNT);
    if (at >= 0) readings[at] = summary;
    else readings.unshift(summary);
  }
  const usable = readings.filter(({ summary, credentials }) => {
    if (summary.state !== "ready" || !credentials) return false;
    if (summary.name === DEFAULT_ACCOUNT && reading && status)
      return loginUsable(status, problem, reading.expiryUnknown);
    const own = credentialStatus(credentials, now);
    return loginUsable(own, unusableReason(own, now, Boolean(credentials.refreshToken)));
  });
  const accounts = readings.map((entry) => entry.summary);

  if (options.json) {
    const json: Record<string, unknown> =
      reading && status
        ? statusJson(status, reading, problem)
        : { type: "oauth", hasCredentials: false, ...(defaultError ? { error: defaultError.message } : {}) };
    if (accounts.length > 0) json.accounts = accounts;
    stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return usable.length > 0 ? 0 : 1;
  }

  if (defaultError && !reading) stderr.write(`${defaultError.message}\n`);
  const onlyDefault = readings.every((entry) => entry.summary.name === DEFAULT_ACCOUNT);
  const blocks: string[] = [];
  for (const entry of readings) {
    const isDefault = entry.summary.name === DEFAULT_ACCOUNT;
    if (isDefault && defaultError && !reading) continue; // already said on stderr
    const source = isDefault && reading ? reading.source : entry.summary.path;
    const label = onlyDefault ? source : `${source} (account "${entry.summary.name}")`;
    blocks.push(accountBlock(entry, now, label, isDefault ? reading?.expiryUnknown : undefined));
  }
  if (readings.length === 0 && !defaultError)
    blocks.push(`No credentials (${directory.pathOf(DEFAULT_ACCOUNT)}). Run \`codex-proxy login\`.`);
  if (!onlyDefault)
    blocks.push(
      usable.length > 0
        ? `${usable.length} of ${readings.length} accounts can serve now (${usable.map((entry) => entry.summary.name).join(", ")}).`
        : `None of the ${readings.length} accounts can serve now.`,
    );
  if (blocks.length > 0) stdout.write(`${blocks.join("\n\n")}\n`);
  return usable.length > 0 ? 0 : 1;
}
