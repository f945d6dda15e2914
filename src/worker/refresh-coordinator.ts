/**
 * The Worker's single owner of the token chain: one Durable Object instance
 * (named "credentials") through which every refresh and every credential
 * write passes.
 *
 * Why: KV has no compare-and-swap and a write can take up to a minute to
 * reach other locations, so isolates that refreshed straight from KV could
 * spend one refresh token twice, or overwrite a fresh push with an old
 * chain. Here the object's own storage (transactional, strongly consistent)
 * is the truth and KV is a copy for the isolates' hot path; refreshes and
 * pushes run one at a time under an in-object lock, and a refresh asked for
 * with a token that is no longer the stored one adopts the stored one.
 */
import { loadConfig, type EnvRecord } from "../core/config.js";
import { errorResponse, ProxyError, toProxyError } from "../core/errors.js";
import { createLogger } from "../core/logging.js";
import type { DurableObjectStateLike, DurableStorageLike, KvNamespace, WorkerEnv } from "./env.js";
import { KvCredentialStore } from "./kv-store.js";
import { TokenManager } from "../credentials/token-manager.js";
import type { CredentialStore, StoredCredentials } from "../credentials/types.js";

export const RELOGIN_HINT_WORKER =
  "Give this Worker a new login: `codex-proxy push-credentials --login --worker-url <this Worker>` " +
  "(or `codex-proxy login`, then `push-credentials`).";

/** The coordinator's routes (internal: only reachable through the binding). */
export const COORDINATOR_ORIGIN = "https://refresh-coordinator";
export interface RefreshRequest {
  staleAccessToken: string;
  force: boolean;
}

export function kvFromEnv(env: WorkerEnv): KvNamespace | undefined {
  return env.CODEX_PROXY_KV ?? env.GEMINI_CLI_KV;
}

/** The string vars and secrets of the env (bindings are objects and are skipped). */
export function stringVars(env: WorkerEnv): EnvRecord {
  const vars: EnvRecord = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === "string") vars[key] = value;
  return vars;
}

const STORAGE_KEY = "credentials";

/**
 * Durable Object storage as the truth, mirrored to KV before anyone uses it.
 * `null` in storage means "cleared" (so a lagging KV copy is not resurrected);
 * nothing in storage means "never written here": KV's copy is used (e.g. a
 * namespace filled before this object existed).
 */
export class DurableCredentialStore implements CredentialStore {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly kv: KvCredentialStore;

  constructor(
    private readonly storage: DurableStorageLike,
    kv: KvNamespace,
  ) {
    this.kv = new KvCredentialStore(kv);
  }

  async get(): Promise<StoredCredentials | undefined> {
    const stored = await this.storage.get<StoredCredentials | null>(STORAGE_KEY);
    if (stored === null) return undefined;
    return stored ?? this.kv.get();
  }

  async set(credentials: StoredCredentials): Promise<void> {
    // JSON drops undefined fields, which is how a cleared field is removed.
    const clean = JSON.parse(JSON.stringify(credentials)) as StoredCredentials;
    await this.storage.put(STORAGE_KEY, clean);
    await this.kv.set(clean);
  }

  async clear(): Promise<void> {
    await this.storage.put(STORAGE_KEY, null);
    await this.kv.clear();
  }

  /** One refresh or push at a time in this object, which is the only one for the chain. */
  withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

export class RefreshCoordinator {
  private readonly store: DurableCredentialStore | undefined;
  private readonly manager: TokenManager | undefined;

  constructor(state: DurableObjectStateLike, env: WorkerEnv) {
    const kv = kvFromEnv(env);
    if (!kv) return;
    const config = loadConfig(stringVars(env));
    const logger = createLogger({ production: true, level: config.logLevel, write: (line) => console.log(line) });
    this.store = new DurableCredentialStore(state.storage, kv);
    this.manager = new TokenManager({
      store: this.store,
      issuer: config.authIssuer,
      fetch: (input, init) => fetch(input, init),
      now: Date.now,
      logger,
      reloginHint: RELOGIN_HINT_WORKER,
    });
  }

  async fetch(request: Request): Promise<Response> {
    try {
      const { store, manager } = this;
      if (!store || !manager)
        throw new ProxyError(503, "No KV namespace bound: add CODEX_PROXY_KV to wrangler.toml.", {
          type: "server_error",
          code: "kv_missing",
        });
      const path = new URL(request.url).pathname;
      if (path === "/refresh" && request.method === "POST") {
        const body = (await request.json()) as RefreshRequest;
        return Response.json(await manager.refreshFrom(String(body.staleAccessToken ?? ""), body.force === true));
      }
      if (path === "/credentials" && request.method === "GET")
        return Response.json({ credentials: (await store.get()) ?? null });
      if (path === "/credentials" && request.method === "PUT") {
        const credentials = (await request.json()) as StoredCredentials;
        // Under the lock: a push waits for a refresh in flight, then wins over it.
        await store.withRefreshLock(() => store.set(credentials));
        return Response.json({ ok: true });
      }
      if (path === "/credentials" && request.method === "DELETE") {
        await store.withRefreshLock(() => store.clear());
        return Response.json({ ok: true });
      }
      throw new ProxyError(404, `Unknown coordinator route ${request.method} ${path}`);
    } catch (error) {
      return errorResponse(toProxyError(error));
    }
  }
}
