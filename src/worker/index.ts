/**
 * Cloudflare Worker entry: the same h3 app as `serve`, over the account pool,
 * with credentials in KV and every refresh, credential write and cooldown
 * going through the account's Durable Object (RefreshCoordinator, one per
 * account). `/v1/*` always needs a key: PROXY_API_KEY, or ADMIN_API_KEY when
 * that is unset.
 */
import { loadConfig, type EnvRecord, type ProxyConfig } from "../core/config.js";
import { EnvCredentialStore } from "../credentials/env-store.js";
import { WorkerAccounts } from "./worker-accounts.js";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import { kvFromEnv, RefreshCoordinator, stringVars } from "./refresh-coordinator.js";
import { TokenManager } from "../credentials/token-manager.js";
import type { AuthProvider, CredentialStore } from "../credentials/types.js";
import type { AccountPool } from "../pool/account-pool.js";
import { WorkerPools } from "./worker-pool.js";
import { createApp, type ProxyApp } from "../server/app.js";
import { errorResponse, ProxyError } from "../core/errors.js";
import { createLogger, type Logger } from "../core/logging.js";
import type { ExecutionContextLike, WorkerEnv } from "./env.js";

export { RefreshCoordinator };

// The only module-level state: one runtime per env object (per isolate and
// deployment), so the pool, the model catalogue cache and connection pool stay warm.
const runtimes = new WeakMap<WorkerEnv, WorkerRuntime>();

interface Credentials {
  auth: AuthProvider;
  store: CredentialStore;
}

/** One deployment's app: fixed (ACCESS_TOKEN), or over the account pool, rebuilt when the list of accounts changes. */
interface WorkerRuntime {
  app(): Promise<ProxyApp>;
  /** Reports to the accounts' objects still on their way when the answer is sent. */
  settled?(): Promise<unknown>;
}

/**
 * ACCESS_TOKEN set as a secret overrides KV, as on `serve`. It is used as
 * is: REFRESH_TOKEN is ignored here, because isolates cannot share an
 * in-memory chain and would spend the refresh token more than once.
 */
const ENV_TOKEN_HINT =
  "Update the ACCESS_TOKEN secret (`wrangler secret put ACCESS_TOKEN`), " +
  "or delete it to use the credentials pushed with `codex-proxy push-credentials`.";

function fromEnvironment(vars: EnvRecord, config: ProxyConfig, logger: Logger): Credentials | undefined {
  if (!vars.ACCESS_TOKEN?.trim()) return undefined;
  const store = new EnvCredentialStore({ ...vars, REFRESH_TOKEN: undefined }, Date.now());
  const auth = new TokenManager({
    store,
    issuer: config.authIssuer,
    fetch: (input, init) => fetch(input, init),
    now: Date.now,
    logger,
    reloginHint: ENV_TOKEN_HINT,
  });
  return { auth, store };
}

function pooled(env: WorkerEnv, config: ProxyConfig, logger: Logger): WorkerRuntime {
  const kv = kvFromEnv(env);
  const namespace = env.REFRESH_COORDINATOR;
  if (!kv || !namespace) {
    throw new ProxyError(
      503,
      "The Worker is missing its CODEX_PROXY_KV or REFRESH_COORDINATOR binding: check wrangler.toml.",
      { type: "server_error", code: "binding_missing" },
    );
  }
  const accounts = new WorkerAccounts(kv, namespace, config.authIssuer);
  const pools = new WorkerPools(accounts, { strategy: config.poolStrategy, logger });
  let current: { pool: AccountPool; app: ProxyApp } | undefined;
  return {
    async app() {
      const pool = await pools.current();
      if (current?.pool !== pool) {
        const app = createApp({
          ...appOptions(config, logger),
          pool,
          store: accounts.storeFor(DEFAULT_ACCOUNT),
          adminAccounts: accounts,
        });
        current = { pool, app };
      }
      return current.app;
    },
    settled: () => accounts.settled(),
  };
}

function appOptions(config: ProxyConfig, logger: Logger) {
  return { config, logger, adminRoutes: "always", v1Auth: "required" } as const;
}

function runtimeFor(env: WorkerEnv): WorkerRuntime {
  const existing = runtimes.get(env);
  if (existing) return existing;
  const vars = stringVars(env);
  const config = loadConfig(vars);
  // Never open: without PROXY_API_KEY, clients use the admin key (and with neither, /v1/* answers 503).
  config.proxyApiKey = config.proxyApiKey ?? config.adminApiKey;
  const logger = createLogger({
    production: true,
    level: config.logLevel,
    write: (line) => console.log(line),
    secrets: [config.proxyApiKey ?? "", config.adminApiKey ?? ""],
  });
  const fixed = fromEnvironment(vars, config, logger);
  let runtime: WorkerRuntime;
  if (fixed) {
    const app = createApp({ ...appOptions(config, logger), ...fixed });
    runtime = { app: async () => app };
  } else {
    runtime = pooled(env, config, logger);
  }
  runtimes.set(env, runtime);
  return runtime;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx?: ExecutionContextLike): Promise<Response> {
    try {
      const runtime = runtimeFor(env);
      const response = await (await runtime.app()).app.fetch(request);
      // Cooldowns and usage windows reported during the request reach the accounts' objects after the answer.
      if (runtime.settled) ctx?.waitUntil(runtime.settled());
      return response;
    } catch (error) {
      return errorResponse(
        error instanceof ProxyError
          ? error
          : new ProxyError(500, "Worker error while starting the app.", { type: "server_error" }),
      );
    }
  },
};
