/**
 * Cloudflare Worker entry: the same h3 app as `serve`, with credentials in
 * KV and refreshes coordinated by a Durable Object. `/v1/*` always needs a
 * key: PROXY_API_KEY, or ADMIN_API_KEY when that is unset.
 */
import { loadConfig } from "./config.js";
import { KvCredentialStore } from "./credentials/kv-store.js";
import { CoordinatedAuth, kvFromEnv, RELOGIN_HINT_WORKER, RefreshCoordinator, stringVars } from "./credentials/refresh-coordinator.js";
import { createApp, type ProxyApp } from "./server/app.js";
import { errorResponse, ProxyError } from "./server/errors.js";
import { createLogger } from "./server/logging.js";
import type { WorkerEnv } from "./worker-types.js";

export { RefreshCoordinator };

// One app per env object (per isolate and deployment): building it once keeps
// the model catalogue cache and the upstream connection pool warm.
const apps = new WeakMap<WorkerEnv, ProxyApp>();

function appFor(env: WorkerEnv): ProxyApp {
  const existing = apps.get(env);
  if (existing) return existing;
  const vars = stringVars(env);
  const config = loadConfig(vars);
  config.proxyApiKey = config.proxyApiKey ?? config.adminApiKey;
  const logger = createLogger({ production: true, level: config.logLevel, write: (line) => console.log(line), secrets: [config.proxyApiKey ?? "", config.adminApiKey ?? ""] });
  const kv = kvFromEnv(env);
  const store = kv ? new KvCredentialStore(kv) : undefined;
  const coordinator = env.REFRESH_COORDINATOR;
  if (!store || !coordinator) throw new ProxyError(503, "The Worker is missing its CODEX_PROXY_KV or REFRESH_COORDINATOR binding: check wrangler.toml.", { type: "server_error", code: "binding_missing" });
  const auth = new CoordinatedAuth(store, () => coordinator.get(coordinator.idFromName("credentials")), config);
  const app = createApp({ config, auth, store, logger, adminRoutes: "always", v1Auth: "required" });
  apps.set(env, app);
  return app;
}

export default {
  async fetch(request: Request, env: WorkerEnv): Promise<Response> {
    try {
      return await appFor(env).app.fetch(request);
    } catch (error) {
      return errorResponse(error instanceof ProxyError ? error : new ProxyError(500, `Worker error. ${RELOGIN_HINT_WORKER}`));
    }
  },
};
