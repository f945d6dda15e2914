/**
 * Hands out a usable access token and keeps the refresh-token chain alive:
 * refresh ahead of expiry, one refresh at a time (in process and, through
 * the store's lock, across processes), adopt tokens someone else already
 * rotated, persist before use, and never retry what cannot succeed.
 * A refresh never writes over credentials that changed since it read them
 * (a login, logout or push made meanwhile wins), and an issuer that is down
 * does not stop a still-valid access token from being used: the refresh is
 * retried later, with a growing delay.
 * Platform APIs only: the Worker runs this too.
 */
import { readIdentity } from "../auth/jwt.js";
import { requestRefresh, OAuthError, type TokenResponse } from "../auth/oauth-client.js";
import { credentialsFromTokens } from "./token-record.js";
import { ProxyError } from "../core/errors.js";
import type { Logger } from "../core/logging.js";
import {
  REFRESH_AHEAD_MS,
  type AuthProvider,
  type CredentialStore,
  type StoredCredentials,
  type UpstreamAuth,
} from "./types.js";

export interface TokenManagerOptions {
  store: CredentialStore;
  issuer: string;
  fetch: typeof fetch;
  now: () => number;
  logger: Logger;
  refreshAheadMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** What a terminal failure tells the user to do (the Worker says to push credentials again). */
  reloginHint?: string;
}

const TRANSIENT_RETRIES = 3;
const RETRY_BASE_MS = 500;
/** After a passing failure while the access token is still valid: wait this long before asking again, doubling up to the cap. */
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 5 * 60_000;

export class TokenManager implements AuthProvider {
  private inflight: Promise<StoredCredentials> | undefined;
  /** The refresh token that failed terminally, and why: later calls fail fast instead of asking again. */
  private deadChain: { refreshToken: string; error: ProxyError } | undefined;
  /** A refresh that failed for a passing reason while the access token was still valid: when to ask again. */
  private retryLater: { refreshToken: string | undefined; at: number; failures: number } | undefined;
  private readonly refreshAheadMs: number;
  private readonly hint: string;

  constructor(private readonly options: TokenManagerOptions) {
    this.refreshAheadMs = options.refreshAheadMs ?? REFRESH_AHEAD_MS;
    this.hint = options.reloginHint ?? "Run `codex-proxy login` to sign in again.";
  }

  async hasCredentials(): Promise<boolean> {
    return (await this.options.store.get()) !== undefined;
  }

  /**
   * True when the token is inside the refresh window (60 minutes). A token
   * whose own lifetime (JWT iat → exp) is under two windows — short-lived
   * test tokens — refreshes at half-life instead, so not every request refreshes.
   */
  needsRefresh(credentials: StoredCredentials): boolean {
    return credentials.expiresAt - this.options.now() <= this.windowFor(credentials.accessToken);
  }

  private windowCache: { token: string; window: number } | undefined;

  private windowFor(accessToken: string): number {
    if (this.windowCache?.token === accessToken) return this.windowCache.window;
    const { issuedAt, expiresAt } = readIdentity(accessToken);
    const lifetime = issuedAt !== undefined && expiresAt !== undefined ? expiresAt - issuedAt : Infinity;
    const window = lifetime < 2 * this.refreshAheadMs ? lifetime / 2 : this.refreshAheadMs;
    this.windowCache = { token: accessToken, window };
    return window;
  }

  private missing(): ProxyError {
    return new ProxyError(401, "No ChatGPT credentials. Run `codex-proxy login` first.", {
      type: "authentication_error",
      code: "missing_credentials",
    });
  }

  async getAuth(): Promise<UpstreamAuth> {
    let credentials = await this.options.store.get();
    if (!credentials) throw this.missing();
    if (this.needsRefresh(credentials) && !this.waitingToRetry(credentials))
      credentials = await this.refresh(credentials.accessToken, false);
    return { accessToken: credentials.accessToken, accountId: credentials.accountId };
  }

  /** True while a failed refresh waits to be retried and the access token is still valid. */
  private waitingToRetry(credentials: StoredCredentials): boolean {
    const { now } = this.options;
    const later = this.retryLater;
    return (
      later !== undefined &&
      later.refreshToken === credentials.refreshToken &&
      now() < later.at &&
      credentials.expiresAt > now()
    );
  }

  /** Resolves once no refresh is in flight: a shutdown waits for it, so rotated tokens are saved before exit. */
  async settle(): Promise<void> {
    while (this.inflight) await this.inflight.catch(() => undefined);
  }

  async refreshAfterUnauthorized(rejected: UpstreamAuth): Promise<UpstreamAuth> {
    const credentials = await this.refresh(rejected.accessToken, true);
    if (credentials.accessToken === rejected.accessToken) {
      throw new ProxyError(
        401,
        `The Codex backend rejected the access token and it cannot be refreshed. ${this.hint}`,
        {
          type: "authentication_error",
          code: "invalid_credentials",
        },
      );
    }
    return { accessToken: credentials.accessToken, accountId: credentials.accountId };
  }

  /**
   * Refreshes unless the stored token already differs from `staleAccessToken`
   * and is fresh (then adopts it). `force` refreshes even outside the window
   * (after a 401). Used by the Worker's refresh coordinator.
   */
  async refreshFrom(staleAccessToken: string, force: boolean): Promise<UpstreamAuth> {
    const credentials = await this.refresh(staleAccessToken, force);
    return { accessToken: credentials.accessToken, accountId: credentials.accountId };
  }

  /** Single flight: concurrent callers share one refresh. */
  private refresh(staleAccessToken: string, force: boolean): Promise<StoredCredentials> {
    this.inflight ??= this.refreshUnderLock(staleAccessToken, force).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private refreshUnderLock(staleAccessToken: string, force: boolean): Promise<StoredCredentials> {
    const { store } = this.options;
    const run = () => this.refreshIfStillNeeded(staleAccessToken, force);
    return store.withRefreshLock ? store.withRefreshLock(run) : run();
  }

  private async refreshIfStillNeeded(staleAccessToken: string, force: boolean): Promise<StoredCredentials> {
    const { store, now, logger } = this.options;
    // Re-read under the lock: another process may have rotated the tokens already.
    const current = await store.get();
    if (!current) throw this.missing();
    if (current.accessToken !== staleAccessToken && !this.needsRefresh(current)) {
      logger.debug("adopting tokens rotated by another process");
      return current;
    }
    if (!force && (!this.needsRefresh(current) || this.waitingToRetry(current))) return current;

    if (current.handedOffTo) {
      if (current.expiresAt > now() && !force) return current;
      throw new ProxyError(
        401,
        `This login's refresh-token chain was handed off to ${current.handedOffTo} and is no longer refreshed here. Run \`codex-proxy login\` to start a new local chain.`,
        { type: "authentication_error", code: "handed_off" },
      );
    }
    if (!current.refreshToken) {
      if (current.expiresAt > now() && !force) return current;
      throw new ProxyError(
        401,
        `The access token has expired and there is no refresh token to renew it. ${this.hint}`,
        {
          type: "authentication_error",
          code: "token_expired",
        },
      );
    }
    if (this.deadChain?.refreshToken === current.refreshToken) throw this.deadChain.error;
    return this.rotate(current, force);
  }

  private async rotate(current: StoredCredentials, force: boolean): Promise<StoredCredentials> {
    const { store, now, logger, issuer } = this.options;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    // A token that still works is used while the issuer is away; after a 401 (force) it does not work.
    const stillValid = !force && current.expiresAt > now();
    const attempts = stillValid ? 1 : TRANSIENT_RETRIES;
    for (let attempt = 0; ; attempt++) {
      let tokens: TokenResponse;
      try {
        tokens = await requestRefresh(this.options.fetch, issuer, current.refreshToken!);
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        if (error.code === "refresh_token_reused") {
          // Someone else may have won the race with this refresh token: adopt their tokens.
          const latest = await store.get();
          if (latest && latest.refreshToken !== current.refreshToken) {
            logger.info("refresh token already rotated elsewhere; adopting the stored tokens");
            return latest;
          }
        }
        if (!error.terminal && attempt < attempts - 1) {
          logger.warn("token refresh failed, retrying", { code: error.code, attempt: attempt + 1 });
          await sleep(RETRY_BASE_MS * 2 ** attempt);
          continue;
        }
        return this.failed(current, error, stillValid);
      }
      const next = {
        ...credentialsFromTokens(tokens, now(), current),
        handedOffTo: undefined,
        handedOffAt: undefined,
      };
      return this.persist(current, next);
    }
  }

  /**
   * Saves rotated tokens — before anyone uses them: a rotated refresh token
   * that is not saved is a chain lost — unless the stored credentials changed
   * since the refresh read them. Then they came from a login, logout or push
   * (or a process that broke an abandoned lock), and they win: this refresh's
   * tokens are dropped rather than written over them.
   */
  private async persist(current: StoredCredentials, next: StoredCredentials): Promise<StoredCredentials> {
    const { store, now, logger } = this.options;
    const latest = await store.get();
    if (!latest || latest.refreshToken !== current.refreshToken || latest.accessToken !== current.accessToken) {
      logger.warn("the stored credentials changed during the refresh; keeping them and dropping the refreshed tokens");
      if (!latest) throw this.missing();
      return latest;
    }
    await store.set(next);
    this.retryLater = undefined;
    logger.info("access token refreshed", { expiresInMinutes: Math.round((next.expiresAt - now()) / 60_000) });
    return next;
  }

  /** Records the error for `status` — on the same credentials only, never over newer ones. */
  private async recordError(current: StoredCredentials, message: string, terminal = false): Promise<void> {
    const { store } = this.options;
    try {
      const latest = await store.get();
      if (latest && latest.refreshToken === current.refreshToken)
        await store.set({ ...latest, lastRefreshError: message, lastRefreshErrorTerminal: terminal || undefined });
    } catch {
      // Status is best effort; the client gets the error anyway.
    }
  }

  private async failed(current: StoredCredentials, error: OAuthError, stillValid: boolean): Promise<StoredCredentials> {
    const { now, logger } = this.options;
    const when = new Date(now()).toISOString();
    if (!error.terminal && stillValid) {
      // The issuer is away (unreachable, 5xx, timeout) but the access token works: keep using it.
      const previous = this.retryLater;
      const failures = (previous && previous.refreshToken === current.refreshToken ? previous.failures : 0) + 1;
      const delay = Math.min(
        BACKOFF_BASE_MS * 2 ** (failures - 1),
        BACKOFF_MAX_MS,
        Math.max(1000, (current.expiresAt - now()) / 2),
      );
      this.retryLater = { refreshToken: current.refreshToken, at: now() + delay, failures };
      const retryIn = Math.round(delay / 1000);
      await this.recordError(
        current,
        `${when}: ${error.message}; will retry in ${retryIn} s (the current access token stays valid until ${new Date(current.expiresAt).toISOString()})`,
      );
      logger.warn("token refresh failed; still using the current access token, which is valid, and will retry", {
        code: error.code,
        retryInSeconds: retryIn,
        validForMinutes: Math.floor((current.expiresAt - now()) / 60_000),
      });
      return current;
    }
    logger.warn("token refresh failed", { code: error.code, terminal: error.terminal });
    if (!error.terminal) {
      await this.recordError(current, `${when}: ${error.message}; will retry on the next request`);
      throw new ProxyError(
        503,
        `Could not refresh the ChatGPT access token: ${error.message}. The OAuth issuer may be down; the refresh is retried on the next request.`,
        { type: "server_error", code: "refresh_unavailable", headers: { "retry-after": "30" } },
      );
    }
    await this.recordError(current, `${when}: ${error.message}`, true);
    const failure = new ProxyError(401, `Could not refresh the ChatGPT access token: ${error.message}. ${this.hint}`, {
      type: "authentication_error",
      code: "refresh_failed",
    });
    this.deadChain = { refreshToken: current.refreshToken!, error: failure };
    throw failure;
  }
}
