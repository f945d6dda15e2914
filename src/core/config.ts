/**
 * Runtime configuration, read once from an environment-like record (process.env
 * on Node, the Worker's vars and secrets on Cloudflare) and passed down.
 */

import { parseEpochMs } from "./time.js";

export type ReasoningOutput = "off" | "reasoning_content" | "think-tags";
export type LogLevel = "debug" | "info" | "warn" | "error";
/** How the account pool chooses among ready accounts (POOL_STRATEGY). */
export type PoolStrategyName = "most-room" | "round-robin" | "fill-first";

export interface ProxyConfig {
  codexBaseUrl: string;
  authIssuer: string;
  defaultModel: string;
  maxBodyBytes: number;
  proxyApiKey?: string;
  adminApiKey?: string;
  /** How chat clients receive reasoning summaries. */
  reasoningOutput: ReasoningOutput;
  /** Codex client version sent upstream; newer models are hidden from older versions (docs/protocol.md §4.5). */
  clientVersion: string;
  production: boolean;
  logLevel: LogLevel;
  /** Milliseconds to wait for the upstream's response headers. */
  connectTimeoutMs: number;
  /** Milliseconds without an upstream byte before a stream is abandoned. */
  idleTimeoutMs: number;
  /** Origins allowed by CORS; empty = CORS off. */
  corsOrigins: string[];
  /**
   * Host names answered without PROXY_API_KEY besides localhost, 127.x and [::1]
   * (ALLOWED_HOSTS; `*` = any): the guard against DNS rebinding.
   */
  allowedHosts: string[];
  /** Where `serve` listens (PORT, HOST); the Worker ignores them. */
  port: number;
  host: string;
  /**
   * ANTHROPIC_MODEL_MAP: Claude model family (`opus`, `sonnet`, `haiku`, …)
   * → catalogue model, optionally with `:effort`. Families not listed use
   * the built-in defaults (docs/anthropic.md).
   */
  anthropicModelMap: Record<string, string>;
  /** POOL_STRATEGY: how the account pool chooses when several accounts are ready. */
  poolStrategy: PoolStrategyName;
}

const DEFAULTS = {
  codexBaseUrl: "https://chatgpt.com/backend-api/codex",
  authIssuer: "https://auth.openai.com",
  defaultModel: "gpt-5.5",
  maxBodyMb: 32,
  clientVersion: "0.146.0",
  connectTimeoutMs: 60_000,
  idleTimeoutMs: 300_000,
  port: 8080,
  host: "127.0.0.1",
} as const;

export type EnvRecord = Record<string, string | undefined>;

/** One variable with a value that cannot be used, and why. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Every unusable variable at once, so that one run shows all that needs fixing. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length === 1 ? "1 variable" : `${problems.length} variables`}):\n${problems
        .map((p) => `  ${p.variable}: ${p.message}`)
        .join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** Reads one variable; an unset or blank one is the default. Problems are collected, not thrown. */
class EnvReader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly env: EnvRecord) {}

  text(name: string): string | undefined {
    const trimmed = this.env[name]?.trim();
    return trimmed ? trimmed : undefined;
  }

  problem(variable: string, message: string): void {
    this.problems.push({ variable, message });
  }

  positive(name: string, fallback: number, unit: string): number {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isFinite(value) && value > 0) return value;
    this.problem(name, `"${raw}" is not a positive number of ${unit} (default ${fallback}).`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, accepted: Record<string, T>): T {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    const value = accepted[raw.toLowerCase()];
    if (value !== undefined) return value;
    this.problem(name, `"${raw}" is not one of ${Object.keys(accepted).join(", ")} (default ${fallback}).`);
    return fallback;
  }

  httpUrl(name: string, fallback: string): string {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    if (/^https?:\/\/[^/\s]+/i.test(raw) && parseUrl(raw)) return raw.replace(/\/+$/, "");
    this.problem(name, `"${raw}" is not an http(s) URL (default ${fallback}).`);
    return fallback;
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function corsOrigins(read: EnvReader): string[] {
  const origins = (read.text("CORS_ORIGINS") ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  const bad = origins.filter((o) => o !== "*" && parseUrl(o)?.origin !== o.replace(/\/+$/, ""));
  if (bad.length > 0)
    read.problem(
      "CORS_ORIGINS",
      `${bad.map((o) => `"${o}"`).join(", ")}: each entry must be an origin such as https://app.example.com, or *.`,
    );
  return origins;
}

/** A Host name (`proxy.lan`, `192.168.1.5`, `[fd00::2]`), optionally with a port; lower-cased, port dropped. */
const HOST_NAME_RE = /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::\d{1,5})?$/;

function allowedHosts(read: EnvReader): string[] {
  const names = (read.text("ALLOWED_HOSTS") ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase().replace(/\.$/, ""))
    .filter(Boolean);
  const bad = names.filter((name) => name !== "*" && !HOST_NAME_RE.test(name));
  if (bad.length > 0)
    read.problem(
      "ALLOWED_HOSTS",
      `${bad.map((n) => `"${n}"`).join(", ")} is not a host name. List names as they appear in the Host header, comma-separated (e.g. "proxy.lan,192.168.1.5,[fd00::2]"), without a scheme or path; "*" allows any.`,
    );
  return names
    .filter((name) => !bad.includes(name))
    .map((name) => (name.startsWith("[") ? name.slice(0, name.indexOf("]") + 1) : name.replace(/:\d+$/, "")));
}

const MODEL_MAP_PAIR = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=\s*([A-Za-z0-9][A-Za-z0-9._:-]*)\s*$/;

/** `opus=gpt-5.5:high,sonnet=gpt-5.5,haiku=gpt-5.4-mini` → { opus: "gpt-5.5:high", … }; bad pairs are problems. */
function anthropicModelMap(read: EnvReader): Record<string, string> {
  const map: Record<string, string> = {};
  const bad: string[] = [];
  for (const pair of (read.text("ANTHROPIC_MODEL_MAP") ?? "").split(",")) {
    if (!pair.trim()) continue;
    const match = MODEL_MAP_PAIR.exec(pair);
    if (match) map[match[1]!.toLowerCase()] = match[2]!;
    else bad.push(pair.trim());
  }
  if (bad.length > 0)
    read.problem(
      "ANTHROPIC_MODEL_MAP",
      `${bad.map((p) => `"${p}"`).join(", ")} is not a family=model pair (example: opus=gpt-5.5:high,sonnet=gpt-5.5,haiku=gpt-5.4-mini).`,
    );
  return map;
}

function listenAddress(read: EnvReader): { port: number; host: string } {
  const rawPort = read.text("PORT");
  let port: number = DEFAULTS.port;
  if (rawPort !== undefined) {
    const value = Number(rawPort);
    if (Number.isInteger(value) && value >= 0 && value <= 65535) port = value;
    else read.problem("PORT", `"${rawPort}" is not a port: use a whole number from 1 to 65535 (default ${port}).`);
  }
  const host = read.text("HOST") ?? DEFAULTS.host;
  if (/[\s/]/.test(host))
    read.problem("HOST", `"${host}" is not an address to bind: give a host name or IP, such as 127.0.0.1 or ::1.`);
  return { port, host };
}

/**
 * Reads the configuration and lists every value that cannot be used. A bad
 * value falls back to its default in `config`, so that callers who cannot stop
 * (the Worker) still run; `loadCheckedConfig` refuses instead.
 */
export function readConfig(env: EnvRecord): { config: ProxyConfig; problems: ConfigProblem[] } {
  const read = new EnvReader(env);
  const clientVersion = read.text("CODEX_CLIENT_VERSION") ?? DEFAULTS.clientVersion;
  if (!/^\d+\.\d+\.\d+/.test(clientVersion))
    read.problem("CODEX_CLIENT_VERSION", `"${clientVersion}" is not a version such as ${DEFAULTS.clientVersion}.`);
  const expiresAt = read.text("EXPIRES_AT");
  if (expiresAt !== undefined) {
    const parsed = parseEpochMs(expiresAt);
    if ("problem" in parsed) read.problem("EXPIRES_AT", `${parsed.problem}.`);
  }
  const config: ProxyConfig = {
    codexBaseUrl: read.httpUrl("CODEX_BASE_URL", DEFAULTS.codexBaseUrl),
    authIssuer: read.httpUrl("CODEX_AUTH_ISSUER", DEFAULTS.authIssuer),
    defaultModel: read.text("DEFAULT_MODEL") ?? DEFAULTS.defaultModel,
    maxBodyBytes: Math.round(read.positive("MAX_BODY_MB", DEFAULTS.maxBodyMb, "MiB") * 1024 * 1024),
    proxyApiKey: read.text("PROXY_API_KEY"),
    adminApiKey: read.text("ADMIN_API_KEY"),
    reasoningOutput: read.oneOf<ReasoningOutput>("REASONING_OUTPUT", "reasoning_content", {
      reasoning_content: "reasoning_content",
      "think-tags": "think-tags",
      think: "think-tags",
      off: "off",
      none: "off",
    }),
    clientVersion,
    // ENV is also a POSIX shell variable (the startup file of sh), so other values mean "not production".
    production: read.text("ENV")?.toLowerCase() === "production",
    logLevel: read.oneOf<LogLevel>("LOG_LEVEL", "info", { debug: "debug", info: "info", warn: "warn", error: "error" }),
    connectTimeoutMs: read.positive("UPSTREAM_CONNECT_TIMEOUT_MS", DEFAULTS.connectTimeoutMs, "milliseconds"),
    idleTimeoutMs: read.positive("UPSTREAM_IDLE_TIMEOUT_MS", DEFAULTS.idleTimeoutMs, "milliseconds"),
    corsOrigins: corsOrigins(read),
    allowedHosts: allowedHosts(read),
    ...listenAddress(read),
    anthropicModelMap: anthropicModelMap(read),
    poolStrategy: read.oneOf<PoolStrategyName>("POOL_STRATEGY", "most-room", {
      "most-room": "most-room",
      "round-robin": "round-robin",
      "fill-first": "fill-first",
    }),
  };
  return { config, problems: read.problems };
}

/** The configuration with bad values replaced by defaults (see `readConfig`). */
export function loadConfig(env: EnvRecord): ProxyConfig {
  return readConfig(env).config;
}

/**
 * The configuration, or a `ConfigError` listing every bad value. `only`
 * limits the check to the variables a command uses (login needs the issuer,
 * not the body limit).
 */
export function loadCheckedConfig(env: EnvRecord, only?: readonly string[]): ProxyConfig {
  const { config, problems } = readConfig(env);
  const relevant = only ? problems.filter((p) => only.includes(p.variable)) : problems;
  if (relevant.length > 0) throw new ConfigError(relevant);
  return config;
}
