/**
 * The one place that talks to the Codex backend: headers, the 401 → refresh →
 * retry-once rule, bounded retries before the first byte, and error mapping.
 * Everything else gets a 200 streaming `Response` or a `ProxyError`. Each
 * call runs as one account (the pool chooses it); the rules apply per account.
 */
import type { ProxyConfig } from "../core/config.js";
import type { AuthProvider, UpstreamAuth } from "../credentials/types.js";
import { clientClosed, describeNetworkError, ProxyError } from "../core/errors.js";
import { formatDuration } from "../core/time.js";
import type { Logger } from "../core/logging.js";
import { VERSION } from "../core/version.js";
import { conversationHeaders } from "./conversation-headers.js";
import { isEncryptedContentRejection, withoutEncryptedReasoning } from "./encrypted-reasoning.js";
import type { RateLimitTracker } from "./rate-limits.js";
import { upstreamHttpError } from "./upstream-errors.js";

export interface CodexClientDeps {
  config: ProxyConfig;
  fetch: typeof fetch;
  logger: Logger;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The account a call runs as: its tokens, and where the usage windows its answers report go. */
export interface UpstreamAccount {
  /** The pool's name for the account, for log lines. */
  name?: string;
  auth: AuthProvider;
  rateLimits?: RateLimitTracker;
}

export interface UpstreamCallOptions {
  /** Aborted when the client goes away: the upstream request is cancelled with it. */
  signal?: AbortSignal;
  /** The conversation key (same value as `prompt_cache_key`): fills the conversation headers. */
  sessionId?: string;
  /** The client's request headers: its own `session-id`, `thread-id`, `x-client-request-id` are forwarded. */
  clientHeaders?: Headers;
  /** How long to wait for the answer's headers; the configured connect timeout when absent. */
  timeoutMs?: number;
}

/** Retries for 5xx, throttling 429s and connection errors before the first byte (at most 2, as the README promises). */
export const MAX_RETRIES = 2;
const RETRY_BASE_MS = 250;
/** Image calls answer after 60–120 s (docs/protocol.md §11). */
const IMAGE_TIMEOUT_MS = 180_000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class ConnectTimeout extends Error {}

export class CodexClient {
  private readonly userAgent: string;

  constructor(private readonly deps: CodexClientDeps) {
    this.userAgent = `codex_cli_rs/${deps.config.clientVersion} (codex-proxy ${VERSION})`;
  }

  private headers(auth: UpstreamAuth, accept: string, options: UpstreamCallOptions): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${auth.accessToken}`,
      "content-type": "application/json",
      accept,
      originator: "codex_cli_rs",
      "user-agent": this.userAgent,
      version: this.deps.config.clientVersion,
    };
    if (auth.accountId) headers["chatgpt-account-id"] = auth.accountId;
    // session-id (hyphen, not the obsolete session_id), thread-id, x-client-request-id (docs/protocol.md §4.2).
    Object.assign(headers, conversationHeaders(options.clientHeaders, options.sessionId));
    return headers;
  }

  /**
   * Fetches with a connect timeout covering only the wait for response
   * headers; the client's signal keeps cancelling the body afterwards.
   */
  private async fetchWithTimeout(
    url: string,
    init: RequestInit,
    clientSignal: AbortSignal | undefined,
    timeoutMs = this.deps.config.connectTimeoutMs,
  ): Promise<Response> {
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(clientSignal?.reason);
    if (clientSignal?.aborted) onClientAbort();
    clientSignal?.addEventListener("abort", onClientAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new ConnectTimeout()), timeoutMs);
    try {
      return await this.deps.fetch(url, { ...init, signal: controller.signal });
    } catch (error) {
      if (controller.signal.reason instanceof ConnectTimeout) {
        throw new ProxyError(504, `The Codex backend did not answer within ${formatDuration(timeoutMs)}.`, {
          type: "upstream_error",
          code: "upstream_timeout",
        });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * POSTs a Responses request (already normalised) and returns the upstream's
   * 200 streaming answer. `body` is serialised once and reused across retries.
   */
  async createResponse(
    account: UpstreamAccount,
    body: Record<string, unknown>,
    options: UpstreamCallOptions = {},
  ): Promise<Response> {
    const url = `${this.deps.config.codexBaseUrl}/responses`;
    const post = (payload: Record<string, unknown>) =>
      this.send(account, url, { method: "POST", body: JSON.stringify(payload) }, "text/event-stream", options);
    try {
      return await post(body);
    } catch (error) {
      // Reasoning encrypted under another account (after a failover or a new login): once, without it.
      const stripped = isEncryptedContentRejection(error) ? withoutEncryptedReasoning(body) : undefined;
      if (!stripped) throw error;
      this.deps.logger.warn(
        "the backend could not read earlier reasoning made under another account; retrying without it",
        {
          account: account.name,
          removed: stripped.removed,
        },
      );
      return post(stripped.body);
    }
  }

  /**
   * POSTs an image request (`images/generations` or `images/edits`, docs/protocol.md §11)
   * and returns the backend's JSON answer. These calls take one to two minutes
   * before the first byte, so they wait at least three minutes for it.
   */
  async createImages(
    account: UpstreamAccount,
    endpoint: "generations" | "edits",
    body: Record<string, unknown>,
    options: UpstreamCallOptions = {},
  ): Promise<Response> {
    const url = `${this.deps.config.codexBaseUrl}/images/${endpoint}`;
    const timeoutMs = Math.max(this.deps.config.connectTimeoutMs, IMAGE_TIMEOUT_MS);
    return this.send(account, url, { method: "POST", body: JSON.stringify(body) }, "application/json", {
      ...options,
      timeoutMs,
    });
  }

  /** Waits before retry number `attempt` (0-based), with the same backoff as HTTP-level retries. */
  async backoff(attempt: number): Promise<void> {
    await (this.deps.sleep ?? defaultSleep)(RETRY_BASE_MS * 2 ** attempt);
  }

  /** GET `/models?client_version=…` as parsed JSON. */
  async fetchModelCatalogue(account: UpstreamAccount, signal?: AbortSignal): Promise<unknown> {
    const url = `${this.deps.config.codexBaseUrl}/models?client_version=${encodeURIComponent(this.deps.config.clientVersion)}`;
    const response = await this.send(account, url, { method: "GET" }, "application/json", { signal });
    return response.json();
  }

  private async send(
    account: UpstreamAccount,
    url: string,
    init: RequestInit,
    accept: string,
    options: UpstreamCallOptions,
  ): Promise<Response> {
    const sleep = this.deps.sleep ?? defaultSleep;
    let auth = await account.auth.getAuth();
    let refreshedAfter401 = false;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchWithTimeout(
          url,
          { ...init, headers: this.headers(auth, accept, options) },
          options.signal,
          options.timeoutMs,
        );
      } catch (error) {
        if (options.signal?.aborted) throw clientClosed();
        if (error instanceof ProxyError) throw error;
        if (attempt < MAX_RETRIES) {
          this.deps.logger.warn("upstream connection failed, retrying", {
            attempt: attempt + 1,
            reason: describeNetworkError(error),
          });
          await sleep(RETRY_BASE_MS * 2 ** attempt);
          continue;
        }
        throw new ProxyError(
          503,
          `Could not reach the Codex backend (${describeNetworkError(error)}). Check your network connection and retry.`,
          {
            type: "upstream_error",
            code: "upstream_unreachable",
          },
        );
      }

      account.rateLimits?.observe(response.headers, this.deps.now());
      if (response.ok) return response;

      const text = await response.text().catch(() => "");
      if (response.status === 401 && !refreshedAfter401) {
        refreshedAfter401 = true;
        this.deps.logger.info("upstream answered 401, refreshing the access token once");
        auth = await account.auth.refreshAfterUnauthorized(auth);
        attempt--; // the retry after a refresh does not count against the transient-error budget
        continue;
      }
      const mapped = upstreamHttpError(response.status, text, response.headers, this.deps.now());
      // Throttling is worth a retry; a usage limit or a plan without Codex is not.
      const transient = response.status >= 500 || (response.status === 429 && mapped.type === "rate_limit_error");
      if (transient && mapped.code !== "cloudflare_challenge" && attempt < MAX_RETRIES) {
        this.deps.logger.warn("upstream transient error, retrying", { status: response.status, attempt: attempt + 1 });
        await sleep(RETRY_BASE_MS * 2 ** attempt);
        continue;
      }
      throw mapped;
    }
  }
}
