/**
 * Logs: one JSON object a line in production, a readable line otherwise.
 * Callers pass only chosen fields; `redactSecrets` is a second line of defence
 * so that a token can never reach a log even through an error message.
 */
import type { LogLevel } from "./config.js";

type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// JWTs, bearer values, OpenAI-style keys and long opaque refresh tokens.
const SECRET_PATTERNS: RegExp[] = [
  /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  /(Bearer\s+)[^\s"']+/gi,
  /\b(sk|rt|rk)[-_][A-Za-z0-9_.-]{12,}/g,
];

export function redactSecrets(text: string, extraSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of extraSecrets) {
    if (secret && secret.length >= 6) out = out.split(secret).join("[redacted]");
  }
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (_match, bearer: unknown) =>
      typeof bearer === "string" && /^Bearer/i.test(bearer) ? `${bearer}[redacted]` : "[redacted]",
    );
  }
  return out;
}

export interface LoggerOptions {
  production: boolean;
  level: LogLevel;
  /** Where lines go: each runtime brings its own (stdout on Node, console on the Worker). */
  write: (line: string, level: LogLevel) => void;
  /** Known secrets (configured keys) to scrub from every line. */
  secrets?: readonly string[];
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LEVEL_ORDER[options.level];
  const write = options.write;
  const now = options.now ?? (() => new Date());
  const secrets = options.secrets ?? [];

  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (LEVEL_ORDER[level] < threshold) return;
    let line: string;
    if (options.production) {
      line = JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields });
    } else {
      const extras = Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(
          ([key, value]) =>
            `${key}=${typeof value === "string" && /\s/.test(value) ? JSON.stringify(value) : String(value)}`,
        )
        .join(" ");
      line = `${now().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${message}${extras ? ` ${extras}` : ""}`;
    }
    write(redactSecrets(line, secrets), level);
  };

  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A logger that adds `fields` to every line (e.g. the account a token manager works for). */
export function withFields(logger: Logger, fields: LogFields): Logger {
  const merged = (own?: LogFields): LogFields => ({ ...fields, ...own });
  return {
    debug: (message, own) => logger.debug(message, merged(own)),
    info: (message, own) => logger.info(message, merged(own)),
    warn: (message, own) => logger.warn(message, merged(own)),
    error: (message, own) => logger.error(message, merged(own)),
  };
}
