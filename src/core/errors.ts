/**
 * Errors in the OpenAI shape. Every failure a client sees goes through
 * `ProxyError` so that status, message and headers are decided in one place.
 */

export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
    [extra: string]: unknown;
  };
}

export interface ProxyErrorOptions {
  type?: string;
  code?: string | null;
  param?: string | null;
  headers?: Record<string, string>;
  /** Extra fields merged into `error` (e.g. `resets_at`). */
  extra?: Record<string, unknown>;
}

const DEFAULT_TYPE_BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
};

export class ProxyError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;

  constructor(status: number, message: string, options: ProxyErrorOptions = {}) {
    super(message);
    this.name = "ProxyError";
    this.status = status;
    this.type =
      options.type ?? DEFAULT_TYPE_BY_STATUS[status] ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }

  toBody(): OpenAIErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code, ...this.extra },
    };
  }
}

/** A 400 that names the offending field, as the OpenAI API does. */
export function invalidRequest(message: string, param: string | null = null, code: string | null = null): ProxyError {
  return new ProxyError(400, message, { param, code });
}

/** The client went away before the answer; nobody reads this, but logs and outcomes name it. */
export function clientClosed(): ProxyError {
  return new ProxyError(499, "Client closed the request", { type: "client_closed", code: "client_closed" });
}

export function toProxyError(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  return new ProxyError(500, "Internal proxy error", { type: "server_error", code: "internal_error" });
}

/**
 * Names a failed fetch the way a user can act on it: the system error code
 * (ECONNREFUSED, ENOTFOUND, ECONNRESET…), "timed out", or the underlying
 * reason, never just "TypeError" or "fetch failed".
 */
export function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return "network error";
  if (error.name === "TimeoutError") return "timed out";
  if (error.name === "AbortError") return "aborted";
  const cause = (error as { cause?: unknown }).cause;
  if (cause && typeof cause === "object") {
    const { code, message, errors } = cause as { code?: unknown; message?: unknown; errors?: unknown };
    if (typeof code === "string" && code) return code;
    // Several addresses tried (IPv4 and IPv6): the first one's code says enough.
    const first = Array.isArray(errors) ? (errors[0] as { code?: unknown } | undefined) : undefined;
    if (typeof first?.code === "string") return first.code;
    if (typeof message === "string" && message) return message;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code) return code;
  return error.message && error.message !== "fetch failed" ? error.message : "network error";
}

export function errorResponse(error: ProxyError): Response {
  return new Response(JSON.stringify(error.toBody()), {
    status: error.status,
    headers: { "content-type": "application/json", ...error.headers },
  });
}
