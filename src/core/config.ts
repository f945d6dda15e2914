/**
 * Runtime configuration, read once from an environment-like record (process.env
 * on Node, the Worker's vars and secrets on Cloudflare) and passed down.
 */

export type ReasoningOutput = "off" | "reasoning_content" | "think-tags";
export type LogLevel = "debug" | "info" | "warn" | "error";

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
   * ANTHROPIC_MODEL_MAP: Claude model family (`opus`, `sonnet`, `haiku`, …)
   * → catalogue model, optionally with `:effort`. Families not listed use
   * the built-in defaults (docs/anthropic.md).
   */
  anthropicModelMap: Record<string, string>;
}

export const DEFAULTS = {
  codexBaseUrl: "https://chatgpt.com/backend-api/codex",
  authIssuer: "https://auth.openai.com",
  defaultModel: "gpt-5.5",
  maxBodyMb: 32,
  clientVersion: "0.146.0",
} as const;

export type EnvRecord = Record<string, string | undefined>;

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function positiveNumber(value: string | undefined, fallback: number): number {
  const parsed = value === undefined ? NaN : Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

function reasoningOutput(value: string | undefined): ReasoningOutput {
  const normalized = value?.trim().toLowerCase();
  if (normalized === "off" || normalized === "none") return "off";
  if (normalized === "think-tags" || normalized === "think") return "think-tags";
  return "reasoning_content";
}

function logLevel(value: string | undefined): LogLevel {
  const normalized = value?.trim().toLowerCase();
  return normalized === "debug" || normalized === "warn" || normalized === "error" ? normalized : "info";
}

/** A setting the user wrote that cannot be used: the message names the variable and the fix. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** `opus=gpt-5.5:high,sonnet=gpt-5.5,haiku=gpt-5.4-mini` → { opus: "gpt-5.5:high", … }. */
export function parseAnthropicModelMap(value: string | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of (value ?? "").split(",")) {
    if (!pair.trim()) continue;
    const match = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=\s*([A-Za-z0-9][A-Za-z0-9._:-]*)\s*$/.exec(pair);
    if (!match) {
      throw new ConfigError(
        `ANTHROPIC_MODEL_MAP: '${pair.trim()}' is not a family=model pair (example: opus=gpt-5.5:high,sonnet=gpt-5.5,haiku=gpt-5.4-mini).`,
      );
    }
    map[match[1]!.toLowerCase()] = match[2]!;
  }
  return map;
}

export function loadConfig(env: EnvRecord): ProxyConfig {
  return {
    codexBaseUrl: (nonEmpty(env.CODEX_BASE_URL) ?? DEFAULTS.codexBaseUrl).replace(/\/+$/, ""),
    authIssuer: (nonEmpty(env.CODEX_AUTH_ISSUER) ?? DEFAULTS.authIssuer).replace(/\/+$/, ""),
    defaultModel: nonEmpty(env.DEFAULT_MODEL) ?? DEFAULTS.defaultModel,
    maxBodyBytes: Math.round(positiveNumber(env.MAX_BODY_MB, DEFAULTS.maxBodyMb) * 1024 * 1024),
    proxyApiKey: nonEmpty(env.PROXY_API_KEY),
    adminApiKey: nonEmpty(env.ADMIN_API_KEY),
    reasoningOutput: reasoningOutput(env.REASONING_OUTPUT),
    clientVersion: nonEmpty(env.CODEX_CLIENT_VERSION) ?? DEFAULTS.clientVersion,
    production: env.ENV?.trim().toLowerCase() === "production",
    logLevel: logLevel(env.LOG_LEVEL),
    connectTimeoutMs: positiveNumber(env.UPSTREAM_CONNECT_TIMEOUT_MS, 60_000),
    idleTimeoutMs: positiveNumber(env.UPSTREAM_IDLE_TIMEOUT_MS, 300_000),
    corsOrigins: (nonEmpty(env.CORS_ORIGINS) ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    anthropicModelMap: parseAnthropicModelMap(env.ANTHROPIC_MODEL_MAP),
  };
}
