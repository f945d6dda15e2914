/**
 * `codex-proxy serve`: the local proxy. Credentials come from the
 * environment (ACCESS_TOKEN…) when set, else from the stored login.
 */
import { loadConfig, type EnvRecord, type ProxyConfig } from "../core/config.js";
import { EnvCredentialStore } from "../credentials/env-store.js";
import { TokenManager } from "../credentials/token-manager.js";
import type { CredentialStore } from "../credentials/types.js";
import { RateLimitTracker, type RateLimitSnapshot } from "../codex/rate-limits.js";
import { stdioLogWriter } from "../node/log-writer.js";
import { startServer, type RunningServer } from "../node/server.js";
import { createLogger, type Logger } from "../core/logging.js";
import { VERSION } from "../core/version.js";
import { openCredentialStore } from "./credential-store.js";

export interface ServeOptions {
  port?: string | number;
  host?: string;
  insecureNoAuth?: boolean;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function parsePort(value: string | number | undefined): number {
  const port = Number(value ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`Invalid port "${value}": use a number from 1 to 65535.`);
  return port;
}

function banner(config: ProxyConfig, url: string, credentialSource: string): void {
  const keyHeader = config.proxyApiKey ? ` \\\n  -H "Authorization: Bearer $PROXY_API_KEY"` : "";
  if (config.production) {
    // The banner is printed at any log level, as one JSON object like every other line.
    const line = {
      time: new Date().toISOString(),
      level: "info",
      msg: "codex-proxy listening",
      url,
      version: VERSION,
      credentials: credentialSource,
      auth: config.proxyApiKey ? "api-key" : "none",
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return;
  }
  const lines = [
    `codex-proxy ${VERSION} listening on ${url}`,
    `credentials: ${credentialSource}${config.proxyApiKey ? "; clients must send PROXY_API_KEY" : ""}`,
    "",
    "Try it:",
    `  curl ${url}/v1/chat/completions \\`,
    `  -H "Content-Type: application/json"${keyHeader} \\`,
    `  -d '{"messages":[{"role":"user","content":"Hello!"}]}'`,
    "",
    "OpenAI SDK / any OpenAI client:",
    `  OPENAI_BASE_URL=${url}/v1 OPENAI_API_KEY=${config.proxyApiKey ? "$PROXY_API_KEY" : "unused"}`,
    "",
    "Press Ctrl+C to stop.",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Saves the usage windows for `status` without a disk write per request. */
function persistAtMostEvery(
  intervalMs: number,
  now: () => number,
  save: (snapshot: RateLimitSnapshot) => Promise<void>,
) {
  let lastSaved = 0;
  return (snapshot: RateLimitSnapshot) => {
    if (now() - lastSaved < intervalMs) return;
    lastSaved = now();
    void save(snapshot).catch(() => {});
  };
}

/**
 * Refreshes ahead of expiry even when no request comes, so that a proxy left
 * idle for days still holds a live chain. Errors are already logged and
 * recorded by the token manager.
 */
function keepTokensFresh(auth: TokenManager, logger: Logger): ReturnType<typeof setInterval> {
  const timer = setInterval(() => {
    auth
      .getAuth()
      .catch((error: unknown) =>
        logger.debug("background refresh check failed", { reason: error instanceof Error ? error.message : "unknown" }),
      );
  }, 10 * 60_000);
  timer.unref();
  return timer;
}

export async function runServe(options: ServeOptions, env: EnvRecord = process.env): Promise<RunningServer> {
  const config = loadConfig(env);
  const host = options.host ?? env.HOST?.trim() ?? "127.0.0.1";
  const port = parsePort(options.port ?? env.PORT);
  const logger = createLogger({
    production: config.production,
    level: config.logLevel,
    write: stdioLogWriter(config.production),
    secrets: [config.proxyApiKey ?? "", config.adminApiKey ?? ""],
  });

  if (!isLoopbackHost(host) && !config.proxyApiKey) {
    if (!options.insecureNoAuth) {
      throw new Error(
        `Refusing to listen on ${host} without PROXY_API_KEY: anyone who can reach this address could use your ChatGPT subscription. ` +
          "Set PROXY_API_KEY (clients then send it as a Bearer token), or pass --insecure-no-auth if you really mean it.",
      );
    }
    logger.warn(
      `INSECURE: listening on ${host} with no API key (--insecure-no-auth). Anyone who can reach it can use your subscription.`,
    );
  }

  // A closed stdout (`serve | head`, a dead log collector) must not take the proxy down.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

  const now = Date.now;
  const envStore = new EnvCredentialStore(env, now());
  const fromEnv = (await envStore.get()) !== undefined;
  const fileStore = openCredentialStore(env);
  const store: CredentialStore = fromEnv ? envStore : fileStore;
  const auth = new TokenManager({
    store,
    issuer: config.authIssuer,
    // Not globalThis.fetch.bind: reading `fetch` loads undici, which an idle serve does not need yet.
    fetch: (input, init) => fetch(input, init),
    now,
    logger,
  });
  const rateLimits = new RateLimitTracker(
    persistAtMostEvery(10_000, now, (snapshot) => fileStore.setRateLimits(snapshot)),
  );

  const server = await startServer({ config, auth, store, logger, port, host, rateLimits });
  const source = fromEnv
    ? "ACCESS_TOKEN from the environment"
    : (await fileStore.get().catch(() => undefined))
      ? `stored login (${fileStore.path})`
      : "none yet: run `codex-proxy login`, requests answer 401 until then";
  banner(config, server.url, source);
  const keepFresh = keepTokensFresh(auth, logger);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    clearInterval(keepFresh);
    void server.close(10_000).then(() => process.exit(0));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  return server;
}
