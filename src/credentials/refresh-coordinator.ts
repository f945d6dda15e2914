/**
 * The Worker's single refresh point. Every isolate that finds the token due
 * (or rejected with a 401) asks this one Durable Object instance; it runs the
 * token manager against KV, so concurrent requests in any isolate share one
 * refresh and no refresh token is spent twice. The object is single-threaded
 * per instance and the token manager is single-flight within it.
 */
import { loadConfig, type EnvRecord } from "../config.js";
import { errorResponse, ProxyError, toProxyError } from "../server/errors.js";
import { createLogger } from "../server/logging.js";
import type { WorkerEnv } from "../worker-types.js";
import { KvCredentialStore } from "./kv-store.js";
import { TokenManager } from "./token-manager.js";
import type { AuthProvider, CredentialStore, UpstreamAuth } from "./types.js";

export const RELOGIN_HINT_WORKER = "Run `codex-proxy push-credentials --worker-url <this Worker>` (or `--login`) to give it a new login.";

export function kvFromEnv(env: WorkerEnv) {
  return env.CODEX_PROXY_KV ?? env.GEMINI_CLI_KV;
}

export function stringVars(env: WorkerEnv): EnvRecord {
  const vars: EnvRecord = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === "string") vars[key] = value;
  return vars;
}

interface RefreshRequest {
  staleAccessToken: string;
  force: boolean;
}

export class RefreshCoordinator {
  private manager: TokenManager | undefined;

  constructor(
    _state: unknown,
    private readonly env: WorkerEnv,
  ) {}

  private tokenManager(): TokenManager {
    if (this.manager) return this.manager;
    const kv = kvFromEnv(this.env);
    if (!kv) throw new ProxyError(503, "No KV namespace bound: add CODEX_PROXY_KV to wrangler.toml.", { type: "server_error", code: "kv_missing" });
    const config = loadConfig(stringVars(this.env));
    const logger = createLogger({ production: true, level: config.logLevel, write: (line) => console.log(line) });
    this.manager = new TokenManager({ store: new KvCredentialStore(kv), issuer: config.authIssuer, fetch: (input, init) => fetch(input, init), now: Date.now, logger, reloginHint: RELOGIN_HINT_WORKER });
    return this.manager;
  }

  async fetch(request: Request): Promise<Response> {
    try {
      const body = (await request.json()) as RefreshRequest;
      const auth = await this.tokenManager().refreshFrom(body.staleAccessToken, body.force === true);
      return Response.json(auth);
    } catch (error) {
      return errorResponse(toProxyError(error));
    }
  }
}

/**
 * The Worker's AuthProvider: reads KV directly on the hot path and goes to
 * the coordinator only when a refresh is due or the upstream said 401.
 */
export class CoordinatedAuth implements AuthProvider {
  private readonly localCheck: TokenManager;

  constructor(
    private readonly store: CredentialStore,
    /** A new stub per call: Workers forbid using one request's I/O objects in another request. */
    private readonly coordinator: () => { fetch(input: string, init?: RequestInit): Promise<Response> },
    config: { authIssuer: string },
  ) {
    // Only used for its refresh-window rule; it never refreshes here.
    this.localCheck = new TokenManager({ store, issuer: config.authIssuer, fetch: () => Promise.reject(new Error("unused")), now: Date.now, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  }

  async hasCredentials(): Promise<boolean> {
    return (await this.store.get()) !== undefined;
  }

  private async viaCoordinator(staleAccessToken: string, force: boolean): Promise<UpstreamAuth> {
    const response = await this.coordinator().fetch("https://refresh-coordinator/refresh", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ staleAccessToken, force }),
    });
    const body = (await response.json()) as UpstreamAuth & { error?: { message: string; code: string | null; type: string } };
    if (!response.ok || body.error) {
      throw new ProxyError(response.status >= 400 ? response.status : 502, body.error?.message ?? "The refresh coordinator failed.", { code: body.error?.code ?? null, type: body.error?.type });
    }
    return body;
  }

  async getAuth(): Promise<UpstreamAuth> {
    const credentials = await this.store.get();
    if (!credentials) throw new ProxyError(401, `No credentials stored in this Worker. ${RELOGIN_HINT_WORKER}`, { type: "authentication_error", code: "missing_credentials" });
    if (!this.localCheck.needsRefresh(credentials)) return { accessToken: credentials.accessToken, accountId: credentials.accountId };
    return this.viaCoordinator(credentials.accessToken, false);
  }

  async refreshAfterUnauthorized(rejected: UpstreamAuth): Promise<UpstreamAuth> {
    const auth = await this.viaCoordinator(rejected.accessToken, true);
    if (auth.accessToken === rejected.accessToken) {
      throw new ProxyError(401, `The Codex backend rejected the access token and it cannot be refreshed. ${RELOGIN_HINT_WORKER}`, { type: "authentication_error", code: "invalid_credentials" });
    }
    return auth;
  }
}
