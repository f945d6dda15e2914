/**
 * Read-only credentials from the environment (`ACCESS_TOKEN`, `ACCOUNT_ID`,
 * optional `REFRESH_TOKEN`, `EXPIRES_AT`), as the README describes. They
 * override stored credentials; the account id and expiry come from the JWT
 * when not given.
 */
import { readIdentity } from "../auth/jwt.js";
import type { EnvRecord } from "../core/config.js";
import { parseEpochMs } from "../core/time.js";
import type { CredentialStore, StoredCredentials } from "./types.js";

// Without a known expiry an env token is assumed valid for a day, so that
// serve does not try to refresh a token it has no refresh token for.
const UNKNOWN_EXPIRY_MS = 24 * 60 * 60_000;

/** @public Kept exported for `status`, being taught to describe ACCESS_TOKEN credentials too. */
export function credentialsFromEnv(env: EnvRecord, now: number): StoredCredentials | undefined {
  const accessToken = env.ACCESS_TOKEN?.trim();
  if (!accessToken) return undefined;
  const identity = readIdentity(accessToken);
  const expiresAtEnv = env.EXPIRES_AT?.trim() ? parseEpochMs(env.EXPIRES_AT) : undefined;
  return {
    accessToken,
    refreshToken: env.REFRESH_TOKEN?.trim() || undefined,
    expiresAt: expiresAtEnv && "ms" in expiresAtEnv ? expiresAtEnv.ms : (identity.expiresAt ?? now + UNKNOWN_EXPIRY_MS),
    accountId: env.ACCOUNT_ID?.trim() || identity.accountId,
    userId: identity.userId,
    email: identity.email,
    plan: identity.plan,
  };
}

export class EnvCredentialStore implements CredentialStore {
  readonly readOnly = true;
  private credentials: StoredCredentials | undefined;

  constructor(env: EnvRecord, now: number) {
    this.credentials = credentialsFromEnv(env, now);
  }

  async get(): Promise<StoredCredentials | undefined> {
    return this.credentials;
  }

  // Rotated tokens live in memory only: the environment cannot be written back.
  async set(credentials: StoredCredentials): Promise<void> {
    this.credentials = credentials;
  }

  async clear(): Promise<void> {
    this.credentials = undefined;
  }
}
