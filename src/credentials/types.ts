/**
 * The credential record and the store interface shared by the Node (conf),
 * Worker (KV) and environment stores.
 */

export interface StoredCredentials {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Access-token expiry, epoch milliseconds. */
  expiresAt: number;
  accountId?: string;
  /** ChatGPT user id, or the `userID` pushed through the admin API. */
  userId?: string;
  email?: string;
  plan?: string;
  /** Epoch ms of the last successful refresh. */
  lastRefresh?: number;
  /** Message of the last failed refresh (never contains a token). */
  lastRefreshError?: string;
  /** True when that failure needs a new login (the refresh token was spent, revoked or expired). */
  lastRefreshErrorTerminal?: boolean;
  /** Set when the chain was pushed to a Worker: the local copy must not refresh any more. */
  handedOffTo?: string;
  handedOffAt?: number;
  /** Set with `accounts disable`: the pool leaves this account out until it is enabled again. */
  disabled?: boolean;
}

export interface CredentialStore {
  get(): Promise<StoredCredentials | undefined>;
  set(credentials: StoredCredentials): Promise<void>;
  clear(): Promise<void>;
  /** True when the store cannot persist (environment variables). */
  readonly readOnly?: boolean;
  /**
   * Runs `fn` while holding a lock shared with other processes/isolates using
   * the same store, so that one refresh token is never spent twice. Stores
   * without cross-process sharing may omit it.
   */
  withRefreshLock?<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Runs a credential write (login, logout, admin push) under the same lock as
 * refreshes, so that a refresh in flight can never overwrite it.
 */
export function underCredentialLock<T>(store: CredentialStore, fn: () => Promise<T>): Promise<T> {
  return store.withRefreshLock ? store.withRefreshLock(fn) : fn();
}

/** The `status --json` / `GET /admin/credentials/status` shape (docs/protocol.md §9). */
export type CredentialStatus =
  | { type: "oauth"; hasCredentials: false; [extra: string]: unknown }
  | {
      type: "oauth";
      hasCredentials: true;
      userID: string;
      expiresAt: number;
      minutesUntilExpiry: number;
      isExpired: boolean;
      needsRefreshSoon: boolean;
      [extra: string]: unknown;
    };

export const REFRESH_AHEAD_MS = 60 * 60_000;

function minutesUntilExpiry(expiresAt: number, now: number): number {
  // Math.trunc, not floor: the contract truncates toward zero (docs/protocol.md §9.3).
  return Math.trunc((expiresAt - now) / 60_000);
}

export function credentialStatus(credentials: StoredCredentials | undefined, now: number): CredentialStatus {
  if (!credentials) return { type: "oauth", hasCredentials: false };
  const minutes = minutesUntilExpiry(credentials.expiresAt, now);
  const status: CredentialStatus = {
    type: "oauth",
    hasCredentials: true,
    userID: credentials.userId ?? credentials.accountId ?? "unknown",
    expiresAt: credentials.expiresAt,
    minutesUntilExpiry: minutes,
    isExpired: minutes <= 0,
    needsRefreshSoon: minutes <= 60,
  };
  if (credentials.accountId) status.accountId = credentials.accountId;
  if (credentials.email) status.email = credentials.email;
  if (credentials.plan) status.plan = credentials.plan;
  if (credentials.lastRefresh) status.lastRefresh = credentials.lastRefresh;
  if (credentials.lastRefreshError) status.lastRefreshError = credentials.lastRefreshError;
  if (credentials.lastRefreshError && credentials.lastRefreshErrorTerminal) status.lastRefreshErrorTerminal = true;
  if (credentials.handedOffTo) status.handedOffTo = credentials.handedOffTo;
  return status;
}

/** What the upstream client needs for one request. */
export interface UpstreamAuth {
  accessToken: string;
  accountId?: string;
}

/**
 * Hands out usable upstream credentials. The token manager implements it with
 * refresh; a static provider serves tests and env-only setups.
 */
export interface AuthProvider {
  /** A token that is not within the refresh window, refreshing first if needed. */
  getAuth(): Promise<UpstreamAuth>;
  /** Called after the upstream answered 401 to `rejected`: refresh once (shared) and return the new auth. */
  refreshAfterUnauthorized(rejected: UpstreamAuth): Promise<UpstreamAuth>;
  hasCredentials(): Promise<boolean>;
}
