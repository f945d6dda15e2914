/**
 * The one h3 app behind both `serve` (Node) and the Cloudflare Worker. It is
 * built from its dependencies; nothing here knows which runtime it runs on.
 */
import { H3, type H3Event, type Middleware } from "h3";
import { CodexClient } from "../codex/client.js";
import { ModelCatalogue } from "../codex/model-catalogue.js";
import { RateLimitTracker } from "../codex/rate-limits.js";
import type { ProxyConfig } from "../core/config.js";
import type { AuthProvider, CredentialStore } from "../credentials/types.js";
import { VERSION } from "../core/version.js";
import { hasValidKey } from "./api-keys.js";
import { corsMiddleware } from "./cors.js";
import { JSON_CONTENT_TYPES, requestGuards, requireContentType, type ErrorShape } from "./request-guards.js";
import type { RequestLogInfo, RouteContext } from "./context.js";
import { ProxyError, toProxyError } from "../core/errors.js";
import { errorResponseFor } from "./error-shape.js";
import { webStreamRuntime, type StreamRuntime } from "./stream-runtime.js";
import type { Logger } from "../core/logging.js";
import { handleChatCompletions } from "./routes/chat-completions.js";
import { handleAnthropicCountTokens, handleAnthropicMessages } from "./routes/anthropic-messages.js";
import { type AdminAccounts, handleCredentialStatus, handleSetCredentials } from "./routes/admin.js";
import { handleGetModel, handleListModels } from "./routes/models.js";
import { handleResponses } from "./routes/responses.js";
import { handleCodexModels } from "./routes/codex-models.js";
import { refuseWebSocket } from "./routes/websocket-refusal.js";
import { handleImageEdits, handleImageGenerations } from "./routes/images.js";
import { handleResponsesCompact } from "./routes/responses-compact.js";
import { handleCodexUsage, handleUsage } from "./routes/usage.js";
import { handlePool } from "./routes/pool.js";
import { statusPageRoutes } from "./status-page/routes.js";
import { AccountPool } from "../pool/account-pool.js";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";

/** Where Codex clients look for usage: `{base}/api/codex/usage`, or `{base}/wham/usage` under a backend-api base. */
const CODEX_USAGE_PATHS = ["/api/codex/usage", "/backend-api/wham/usage", "/v1/api/codex/usage"];

/** Image edits come as files (multipart/form-data, as the openai SDK sends them) or as JSON with data URLs. */
const IMAGE_EDIT_CONTENT_TYPES: readonly string[] = [...JSON_CONTENT_TYPES, "multipart/form-data"];

export interface AppDeps {
  config: ProxyConfig;
  /**
   * The accounts. When absent, a pool of one account (`default`) is built from
   * `auth`, `store` and `rateLimits`: with one account everything behaves as
   * it did before pools existed.
   */
  pool?: AccountPool;
  /** The one account's tokens when no `pool` is given. */
  auth?: AuthProvider;
  /** Where the default account's credentials live, for the admin API; absent when they come from the environment only. */
  store?: CredentialStore;
  /** Named accounts the admin API can add and list (the Worker's); without it, the default account only. */
  adminAccounts?: AdminAccounts;
  fetch?: typeof fetch;
  logger: Logger;
  now?: () => number;
  newId?: () => string;
  /** The one account's usage windows when no `pool` is given. */
  rateLimits?: RateLimitTracker;
  sleep?: (ms: number) => Promise<void>;
  /**
   * `when-configured` (serve): admin routes exist only with ADMIN_API_KEY.
   * `always` (Worker): they always exist and fail closed without the key.
   */
  adminRoutes?: "when-configured" | "always";
  /** `required` (Worker): /v1/* refuses to run open when no key is configured. */
  v1Auth?: "optional" | "required";
  /** How request bodies and upstream event streams are read; web streams when absent. */
  streams?: StreamRuntime;
}

export interface ProxyApp {
  app: H3;
  context: RouteContext;
}

const LOG_INFO = Symbol("requestLogInfo");

type EventWithLog = H3Event & { context: { [LOG_INFO]?: RequestLogInfo; startedAt?: number } };

function logInfo(event: H3Event): RequestLogInfo {
  const ctx = (event as EventWithLog).context;
  ctx[LOG_INFO] ??= {};
  return ctx[LOG_INFO];
}

function randomId(): string {
  return crypto.randomUUID().replace(/-/g, "").slice(0, 24);
}

/** `/health`: up, and whether any account has credentials; a credential store that cannot be read says why (503). */
async function health(pool: AccountPool): Promise<Response> {
  try {
    let hasCredentials = false;
    for (const member of pool.members) if (await member.auth.hasCredentials()) hasCredentials = true;
    return Response.json({ status: "ok", version: VERSION, hasCredentials });
  } catch (error) {
    const problem = toProxyError(error);
    return Response.json(
      { status: "error", version: VERSION, hasCredentials: false, error: problem.message, code: problem.code },
      { status: 503 },
    );
  }
}

/** The pool of one account (`default`) from `auth`, `store` and `rateLimits`. */
function onePool(deps: AppDeps, now: () => number): AccountPool {
  if (!deps.auth) throw new Error("createApp needs a pool or an auth provider.");
  return new AccountPool({
    members: [
      {
        name: DEFAULT_ACCOUNT,
        auth: deps.auth,
        store: deps.store,
        rateLimits: deps.rateLimits ?? new RateLimitTracker(),
      },
    ],
    strategy: deps.config.poolStrategy,
    now,
    logger: deps.logger,
  });
}

export function createApp(deps: AppDeps): ProxyApp {
  const now = deps.now ?? Date.now;
  const fetchImpl = deps.fetch ?? globalThis.fetch.bind(globalThis);
  const pool = deps.pool ?? onePool(deps, now);
  const client = new CodexClient({
    config: deps.config,
    fetch: fetchImpl,
    logger: deps.logger,
    now,
    sleep: deps.sleep,
  });
  const catalogue = new ModelCatalogue({
    fetchCatalogue: () => pool.run({ background: true }, (member) => client.fetchModelCatalogue(member)),
    now,
    logger: deps.logger,
  });
  const context: RouteContext = {
    config: deps.config,
    client,
    catalogue,
    pool,
    store: deps.store,
    logger: deps.logger,
    now,
    newId: deps.newId ?? randomId,
    streams: deps.streams ?? webStreamRuntime,
  };

  const app = new H3({
    onRequest(event) {
      (event as EventWithLog).context.startedAt = performance.now();
    },
    onResponse(response, event) {
      const info = logInfo(event);
      const started = (event as EventWithLog).context.startedAt ?? performance.now();
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const method = event.req.method;
      const path = event.url.pathname;
      deps.logger.info("request", {
        method,
        path,
        status: response.status,
        model: info.model,
        stream: info.stream,
        account: info.account,
        ms,
      });
      if (method === "POST" && path.startsWith("/v1/"))
        pool.recent.add({
          time: now(),
          method,
          path,
          model: info.model,
          account: info.account,
          status: response.status,
          ms,
        });
    },
    // Routes answer their own errors (see `guarded`); this catches what h3 itself rejects.
    onError(error, event) {
      const cause = (error as { cause?: unknown }).cause;
      const proxyError =
        cause instanceof ProxyError
          ? cause
          : error.status === 404
            ? new ProxyError(
                404,
                `Unknown route ${event.req.method} ${event.url.pathname}. See the README for the endpoints.`,
                { code: "not_found" },
              )
            : error.status === 405
              ? new ProxyError(405, `Method ${event.req.method} is not allowed on ${event.url.pathname}.`, {
                  code: "method_not_allowed",
                })
              : error.status >= 400 && error.status < 500
                ? new ProxyError(error.status, error.message || "Bad request")
                : toProxyError(cause ?? error);
      if (proxyError.status >= 500 && !(cause instanceof ProxyError)) {
        deps.logger.error("unhandled error", {
          path: event.url.pathname,
          error: cause instanceof Error ? cause.message : String(error.message),
        });
      }
      return errorResponseFor(event.url.pathname, proxyError);
    },
  });

  /** Every route answers its own failures in its API's error shape, never as h3's default 500 page. */
  const guarded =
    (handler: (event: H3Event) => Response | Promise<Response>) =>
    async (event: H3Event): Promise<Response> => {
      try {
        return await handler(event);
      } catch (error) {
        const proxyError = toProxyError(error);
        if (!(error instanceof ProxyError)) {
          deps.logger.error("unhandled error", {
            path: event.url.pathname,
            error: error instanceof Error ? error.message : String(error),
          });
        }
        return errorResponseFor(event.url.pathname, proxyError);
      }
    };

  // Each API answers in its own shape, chosen by path (error-shape.ts): Anthropic's on /v1/messages*.
  const pathShape: ErrorShape = (error, event) => errorResponseFor(event.url.pathname, error);
  // Without a key, the Host check stops DNS rebinding; where a key is always required
  // (the Worker, answering on its own hostname) the key is the guard.
  const checkHost = deps.v1Auth !== "required" && !deps.config.proxyApiKey && !deps.config.allowedHosts.includes("*");
  app.use(
    requestGuards({
      allowedOrigins: deps.config.corsOrigins,
      allowedHosts: checkHost ? deps.config.allowedHosts : undefined,
      shape: pathShape,
    }),
  );
  if (deps.config.corsOrigins.length > 0) app.use(corsMiddleware(deps.config.corsOrigins));

  // /v1/* is guarded by PROXY_API_KEY when it is set; so are the Codex usage endpoints, which
  // clients ask relative to the proxy's base.
  const v1Guard = async (event: H3Event) => {
    const key = deps.config.proxyApiKey;
    if (!key) {
      if (deps.v1Auth !== "required") return;
      return errorResponseFor(
        event.url.pathname,
        new ProxyError(
          503,
          "This proxy has no API key configured and refuses to run open: set ADMIN_API_KEY (and optionally PROXY_API_KEY) with `wrangler secret put`.",
          {
            type: "server_error",
            code: "api_key_not_configured",
          },
        ),
      );
    }
    if (!(await hasValidKey(event.req.headers, key))) {
      return errorResponseFor(
        event.url.pathname,
        new ProxyError(
          401,
          "Missing or invalid API key. Send the proxy's PROXY_API_KEY as `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
          {
            code: "invalid_api_key",
          },
        ),
      );
    }
  };
  for (const prefix of ["/v1/**", ...CODEX_USAGE_PATHS.filter((path) => !path.startsWith("/v1/"))])
    app.use(prefix, v1Guard);

  // h3 types its request against the DOM's Request; under the Workers types the two declarations
  // differ only in generics, so routes take the platform Request both runtimes really hand us.
  const request = (event: H3Event): Request => event.req as Request;
  const jsonBody = { middleware: [requireContentType(JSON_CONTENT_TYPES, pathShape)] };
  const routes: Array<
    [
      method: "GET" | "POST",
      path: string,
      handler: (event: H3Event) => Response | Promise<Response>,
      options?: { middleware: Middleware[] },
    ]
  > = [
    ["GET", "/health", () => health(pool)],
    [
      "GET",
      "/v1/models",
      (event) =>
        event.url.searchParams.has("client_version")
          ? handleCodexModels(context)
          : handleListModels(context, request(event)),
    ],
    ["GET", "/v1/models/**:id", (event) => handleGetModel(context, request(event), event.context.params?.id ?? "")],
    ["POST", "/v1/messages", (event) => handleAnthropicMessages(request(event), context, logInfo(event)), jsonBody],
    ["POST", "/v1/messages/count_tokens", (event) => handleAnthropicCountTokens(request(event), context), jsonBody],
    ["POST", "/v1/responses", (event) => handleResponses(request(event), context, logInfo(event)), jsonBody],
    [
      "POST",
      "/v1/chat/completions",
      (event) => handleChatCompletions(request(event), context, logInfo(event)),
      jsonBody,
    ],
    [
      "POST",
      "/v1/responses/compact",
      (event) => handleResponsesCompact(request(event), context, logInfo(event)),
      jsonBody,
    ],
    [
      "POST",
      "/v1/images/generations",
      (event) => handleImageGenerations(request(event), context, logInfo(event)),
      jsonBody,
    ],
    // The openai SDK sends image edits as multipart/form-data (files); JSON with data URLs works too.
    [
      "POST",
      "/v1/images/edits",
      (event) => handleImageEdits(request(event), context, logInfo(event)),
      { middleware: [requireContentType(IMAGE_EDIT_CONTENT_TYPES, pathShape)] },
    ],
    ["GET", "/v1/usage", () => handleUsage(context)],
    ["GET", "/v1/pool", () => handlePool(context)],
    // The owner's status page: static files with no data; it reads /v1/pool, guarded like all of /v1.
    ...statusPageRoutes.map(([path, respond]): (typeof routes)[number] => ["GET", path, respond]),
    ...CODEX_USAGE_PATHS.map((path): (typeof routes)[number] => [
      "GET",
      path,
      (event) => handleCodexUsage(request(event), context),
    ]),
  ];
  if (deps.adminRoutes === "always" || deps.config.adminApiKey) {
    const admin = {
      adminApiKey: deps.config.adminApiKey,
      store: deps.store,
      accounts: deps.adminAccounts,
      now,
      maxBodyBytes: deps.config.maxBodyBytes,
    };
    routes.push(
      ["POST", "/admin/credentials", (event) => handleSetCredentials(request(event), admin), jsonBody],
      ["GET", "/admin/credentials/status", (event) => handleCredentialStatus(request(event), admin)],
    );
  }
  for (const [method, path, handler, options] of routes) app.on(method, path, guarded(handler), options);
  // Codex clients try a WebSocket here first: refused at once (426) so they fall back to POST.
  // Not in `routes`, so that Allow still names only POST.
  app.on("GET", "/v1/responses", guarded(refuseWebSocket));
  // A known path asked with another method: h3 matches the path and finds no handler for the
  // method, so it would answer 404. Each path's catch-all answers 405 with the methods it takes.
  const methodsByPath = new Map<string, string[]>();
  for (const [method, path] of routes) methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), method]);
  for (const [path, methods] of methodsByPath) {
    const allow = methods.join(", ");
    app.all(path, (event) =>
      errorResponseFor(
        event.url.pathname,
        new ProxyError(
          405,
          `Method ${event.req.method} is not allowed on ${event.url.pathname}; use ${methods.join(" or ")}.`,
          {
            code: "method_not_allowed",
            headers: { allow },
          },
        ),
      ),
    );
  }

  return { app, context };
}
