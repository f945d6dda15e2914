/**
 * Hands out a usable access token and keeps the refresh-token chain alive:
 * refresh ahead of expiry, one refresh at a time (in process and, through
 * the store's lock, across processes), adopt tokens someone else already
 * rotated, persist before use, and never retry what cannot succeed.
 * Platform APIs only: the Worker runs this too.
 */
import { readIdentity } from "../auth/jwt.js";
import { requestRefresh, OAuthError } from "../auth/oauth-client.js";
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

export class TokenManager implements AuthProvider {
  private inflight: Promise<StoredCredentials> | undefined;
  /** The refresh token that failed terminally, and why: later calls fail fast instead of asking again. */
  private deadChain: { refreshToken: string; error: ProxyError } | undefined;
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
    if (this.needsRefresh(credentials)) credentials = await this.refresh(credentials.accessToken, false);
    return { accessToken: credentials.accessToken, accountId: credentials.accountId };
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
    if (!force && !this.needsRefresh(current)) return current;

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
    return this.rotate(current);
  }

  private async rotate(current: StoredCredentials): Promise<StoredCredentials> {
    const { store, now, logger, issuer } = this.options;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 0; ; attempt++) {
      try {
        const tokens = await requestRefresh(this.options.fetch, issuer, current.refreshToken!);
        const next = {
          ...credentialsFromTokens(tokens, now(), current),
          handedOffTo: undefined,
          handedOffAt: undefined,
        };
        // Persist before use: a rotated refresh token that is not saved is a chain lost.
        await store.set(next);
        logger.info("access token refreshed", { expiresInMinutes: Math.round((next.expiresAt - now()) / 60_000) });
        return next;
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
        if (error.terminal || attempt >= TRANSIENT_RETRIES - 1) {
          await store
            .set({
              ...current,
              lastRefreshError: `${new Date(now()).toISOString()}: ${error.message}`,
              lastRefreshErrorTerminal: error.terminal || undefined,
            })
            .catch(() => {});
          logger.warn("token refresh failed", { code: error.code, terminal: error.terminal });
          const failure = new ProxyError(
            401,
            `Could not refresh the ChatGPT access token: ${error.message}. ${this.hint}`,
            {
              type: "authentication_error",
              code: "refresh_failed",
            },
          );
          if (error.terminal) this.deadChain = { refreshToken: current.refreshToken!, error: failure };
          throw failure;
        }
        logger.warn("token refresh failed, retrying", { code: error.code, attempt: attempt + 1 });
        await sleep(RETRY_BASE_MS * 2 ** attempt);
      }
    }
  }
}
