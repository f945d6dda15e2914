/**
 * `codex-proxy serve`: the local proxy. Credentials come from the
 * environment (ACCESS_TOKEN…, one account) when set, else from every stored
 * account, which then form the pool: one token manager, keep-fresh timer and
 * usage record per account.
 */
import { loadCheckedConfig, type EnvRecord, type ProxyConfig } from "../core/config.js";
import { EnvCredentialStore } from "../credentials/env-store.js";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import { NodeAccountDirectory } from "../node/account-directory.js";
import type { AccountPool } from "../pool/account-pool.js";
import { ServedAccounts } from "./served-accounts.js";
import { stdioLogWriter } from "../node/log-writer.js";
import { startServer, validBindHost, type RunningServer } from "../node/server.js";
import { createLogger } from "../core/logging.js";
import { VERSION } from "../core/version.js";
import { openUsageStore } from "./credential-store.js";
import { type CliIO, resolveIO } from "./io.js";

export interface ServeOptions {
  port?: string | number;
  host?: string;
  insecureNoAuth?: boolean;
}

const SHUTDOWN_GRACE_MS = 10_000;

const ENV_REFRESH_TOKEN_IGNORED =
  'REFRESH_TOKEN from the environment is not used: serve cannot write a rotated refresh token back to the environment, so the chain would die at the next restart. ACCESS_TOKEN is used until it expires. To keep a refreshing login, store the tokens with `codex-proxy login --access-token "$ACCESS_TOKEN" --refresh-token "$REFRESH_TOKEN"` and unset both variables.';

const ENV_TOKEN_HINT =
  "Set a fresh ACCESS_TOKEN in the environment, or unset ACCESS_TOKEN and REFRESH_TOKEN and store the tokens with `codex-proxy login` so that serve refreshes them.";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function parsePort(value: string | number): number {
  const port = Number(value);
  if (String(value).trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`Invalid port "${value}": use a number from 1 to 65535.`);
  return port;
}

function banner(
  out: NodeJS.WritableStream,
  config: ProxyConfig,
  url: string,
  credentialSource: string,
  pool: AccountPool,
): void {
  const names = pool.members.map((member) => member.name);
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
      ...(names.length > 1 ? { accounts: names.join(","), strategy: pool.strategy.name } : {}),
      auth: config.proxyApiKey ? "api-key" : "none",
    };
    out.write(`${JSON.stringify(line)}\n`);
    return;
  }
  const lines = [
    `codex-proxy ${VERSION} listening on ${url}`,
    `credentials: ${credentialSource}${config.proxyApiKey ? "; clients must send PROXY_API_KEY" : ""}`,
    ...(names.length > 1
      ? [
          `accounts: ${names.join(", ")} (strategy ${pool.strategy.name}; pin one with the header X-Codex-Account: NAME)`,
        ]
      : []),
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
  out.write(`${lines.join("\n")}\n`);
}

function reloginHint(name: string): string {
  return name === DEFAULT_ACCOUNT
    ? "Run `codex-proxy login` to sign in again."
    : `Run \`codex-proxy login --name ${name}\` to sign in again.`;
}

async function describeCredentials(
  fromEnv: boolean,
  pool: AccountPool,
  directory: NodeAccountDirectory,
): Promise<string> {
  if (fromEnv) return "ACCESS_TOKEN from the environment";
  const accounts = pool.members;
  if (accounts.length > 1) return `${accounts.length} accounts (${directory.directory})`;
  const only = pool.defaultMember;
  return (await only.store?.get().catch(() => undefined))
    ? `stored login (${directory.pathOf(only.name)})`
    : "none yet: run `codex-proxy login` (or `login --name NAME`), requests answer 401 until then";
}

/** @public The command without argv, for callers other than its commander action (tests, a lazy command tree). */
export async function runServe(
  options: ServeOptions,
  env: EnvRecord = process.env,
  io: CliIO = {},
): Promise<RunningServer> {
  const { stdout, stderr } = resolveIO(io);
  // Every bad variable is named at once, before anything starts (the CLI exits 1 with the list).
  const config = loadCheckedConfig(env);
  const host = options.host?.trim() || config.host;
  validBindHost(host);
  const port = options.port === undefined ? config.port : parsePort(options.port);
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
  for (const stream of [stdout, stderr]) stream.on("error", () => {});

  const now = Date.now;
  // REFRESH_TOKEN is not used: a rotated refresh token cannot be written back to the environment,
  // so the next start would spend the old one again and the chain would die (see the README).
  const envStore = new EnvCredentialStore({ ...env, REFRESH_TOKEN: undefined }, now());
  const fromEnv = (await envStore.get()) !== undefined;
  if (fromEnv && env.REFRESH_TOKEN?.trim()) logger.warn(ENV_REFRESH_TOKEN_IGNORED);
  const directory = new NodeAccountDirectory(env.CODEX_PROXY_HOME?.trim() || undefined);
  // ACCESS_TOKEN in the environment is one account, as before pools; else every stored account.
  const served = await ServedAccounts.open(
    {
      config,
      logger,
      now,
      // Usage goes to usage.json: saving it never rewrites a credential file.
      usage: openUsageStore(directory.defaultStore),
      directory: fromEnv ? undefined : directory,
      reloginHint: fromEnv ? () => ENV_TOKEN_HINT : reloginHint,
    },
    fromEnv ? envStore : undefined,
  );
  const pool = served.pool;

  // The admin API writes the default account, whichever accounts hold credentials now.
  const store = fromEnv ? envStore : directory.defaultStore;
  const server = await startServer({ config, pool, store, logger, port, host });
  banner(stdout, config, server.url, await describeCredentials(fromEnv, pool, directory), pool);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    // A refresh in flight (for a request or the background check) finishes and saves the rotated
    // tokens within the grace period: exiting in the middle would lose the chain. Past the grace
    // period the process exits anyway, and the lock it holds is removed on exit.
    const refreshSaved = served.settle();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    void Promise.all([server.close(SHUTDOWN_GRACE_MS), Promise.race([refreshSaved, grace])]).then(() =>
      process.exit(0),
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  return server;
}
