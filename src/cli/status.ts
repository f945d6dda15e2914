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
import { credentialStatus, type CredentialStatus, type StoredCredentials } from "../credentials/types.js";
import { CredentialFileError } from "../node/conf-store.js";
import { openCredentialStore, openUsageStore } from "./credential-store.js";
import { renderStatus, unusableReason } from "./format.js";
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

/** Prints the status; returns the exit code (0 usable, 1 missing, expired, unreadable or unrenewable). */
export async function runStatus(options: StatusOptions, env: EnvRecord = process.env, io: CliIO = {}): Promise<number> {
  const { stdout, stderr, now: clock } = resolveIO(io);
  if (options.workerUrl)
    return readWorkerStatus({ workerUrl: options.workerUrl, adminKey: options.adminKey, json: options.json }, env, {
      stdout,
      now: clock(),
    });
  const now = clock();

  let reading: Reading | undefined;
  let storePath: string | undefined;
  try {
    const store = openCredentialStore(env);
    storePath = store.path;
    reading = readEnvironment(env, now, storePath) ?? {
      credentials: await store.get(),
      source: store.path,
      fromEnv: false,
      rateLimits: (await openUsageStore(store).get())?.rateLimits,
    };
  } catch (error) {
    if (!(error instanceof CredentialFileError)) throw error;
    // serve would still run on ACCESS_TOKEN; otherwise nothing is usable until the file is fixed or removed.
    reading = readEnvironment(env, now, undefined);
    if (!reading) {
      if (options.json)
        stdout.write(`${JSON.stringify({ type: "oauth", hasCredentials: false, error: error.message }, null, 2)}\n`);
      else stderr.write(`${error.message}\n`);
      return 1;
    }
  }

  const status = credentialStatus(reading.credentials, now);
  const problem = status.hasCredentials
    ? unusableReason(status, now, Boolean(reading.credentials?.refreshToken))
    : undefined;
  if (options.json) {
    stdout.write(`${JSON.stringify(statusJson(status, reading, problem), null, 2)}\n`);
  } else {
    const text = renderStatus(status, now, {
      source: reading.source,
      rateLimits: reading.rateLimits,
      problem,
      expiryUnknown: reading.expiryUnknown,
    });
    stdout.write(`${text}\n`);
  }
  if (!status.hasCredentials || problem) return 1;
  return reading.expiryUnknown || !status.isExpired ? 0 : 1;
}
