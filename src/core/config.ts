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
}

const DEFAULTS = {
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
  };
}
