/**
 * Maps what the Codex backend says went wrong — HTTP statuses before the
 * stream, `response.failed` / `error` events inside it — to OpenAI-shaped
 * errors with a message that tells the user what happened (docs/protocol.md §7).
 */
import { ProxyError } from "../core/errors.js";
import type { UpstreamEvent } from "./events.js";
import { exhaustedWindows, readRateLimits, type RateLimitWindow, windowLabel } from "./rate-limits.js";

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}

const CONTEXT_PATTERN = /context (window|length)|too many tokens/i;

function statusForCode(code: string | undefined, type: string | undefined, message: string): number {
  if (code === "context_length_exceeded" || code === "context_too_large" || CONTEXT_PATTERN.test(message)) return 400;
  const key = code ?? type ?? "";
  if (["invalid_request_error", "cyber_policy", "invalid_prompt", "invalid_value", "unsupported_value"].includes(key))
    return 400;
  if (key === "rate_limit_exceeded" || key === "usage_limit_reached" || key === "insufficient_quota") return 429;
  if (key === "usage_not_included") return 403;
  if (key === "model_not_found") return 404;
  return 502;
}

/**
 * A terminal failure event (`response.failed` or `error`) as a client error.
 * A usage limit reported in the stream gets the same answer, reset time
 * included, as the HTTP 429 (docs/protocol.md §7.2, §7.3).
 */
export function inStreamFailure(event: UpstreamEvent, nowMs: number = Date.now()): ProxyError {
  const nested = event.type === "response.failed" ? asRecord(event.response?.error) : asRecord(event.error);
  const code = str(nested?.code) ?? str(event.code);
  const type = str(nested?.type) ?? str(event.error_type) ?? str(event.type === "error" ? undefined : undefined);
  if (code === "usage_limit_reached" || type === "usage_limit_reached")
    return usageLimitError({ error: { ...event, ...nested } }, nowMs);
  const upstreamMessage =
    str(nested?.message) ?? str(event.message) ?? "The upstream response failed without an explanation";
  const status = statusForCode(code, type, upstreamMessage);
  const contextExceeded =
    status === 400 &&
    (code === "context_length_exceeded" || code === "context_too_large" || CONTEXT_PATTERN.test(upstreamMessage));
  return new ProxyError(status, status === 502 ? `Codex backend failed: ${upstreamMessage}` : upstreamMessage, {
    code: contextExceeded ? "context_length_exceeded" : (code ?? null),
    type: status === 502 ? "upstream_error" : undefined,
  });
}

/** A stream that closed with no terminal event: never a normal finish (docs/protocol.md §5.1). */
export function prematureClose(): ProxyError {
  return new ProxyError(
    502,
    "The Codex backend closed the stream before the response completed; the answer is incomplete. Retry the request.",
    {
      type: "upstream_error",
      code: "stream_incomplete",
    },
  );
}

/** Reads a `usage_limit_reached` body; reset time from `resets_at` (future) else now + `resets_in_seconds`. */
function usageLimitError(
  body: Record<string, unknown>,
  nowMs: number,
  windows: readonly RateLimitWindow[] = [],
): ProxyError {
  const err = asRecord(body.error) ?? {};
  const nowSec = Math.floor(nowMs / 1000);
  const resetsAtRaw = typeof err.resets_at === "number" ? err.resets_at : undefined;
  const resetsIn = typeof err.resets_in_seconds === "number" ? err.resets_in_seconds : undefined;
  let resetsAt = resetsAtRaw !== undefined && resetsAtRaw > nowSec ? resetsAtRaw : undefined;
  if (resetsAt === undefined && resetsIn !== undefined) resetsAt = nowSec + Math.max(0, Math.round(resetsIn));
  const retryAfter = resetsAt !== undefined ? Math.max(1, resetsAt - nowSec) : undefined;
  const plan = str(err.plan_type);
  const when = resetsAt !== undefined ? new Date(resetsAt * 1000).toISOString() : "an unknown time";
  // Name the window that ran out by its length, whichever header slot carried it (docs/protocol.md §11).
  // The body names the window's length when it can; else the headers' windows that are used up.
  const bodyWindow = typeof err.limit_window_minutes === "number" ? err.limit_window_minutes : undefined;
  const spent =
    bodyWindow !== undefined
      ? [`${windowLabel(bodyWindow)} window`]
      : exhaustedWindows(windows, nowMs).map((w) => `${windowLabel(w.windowMinutes)} window`);
  const which = spent.length > 0 ? ` (${spent.join(" and ")} used up)` : "";
  const forPlan = plan ? ` for plan ${plan}` : "";
  const inHowLong = retryAfter !== undefined ? ` (in ${formatDuration(retryAfter)})` : "";
  const message = `ChatGPT usage limit reached${forPlan}${which}; resets at ${when}${inHowLong}.`;
  return new ProxyError(429, message, {
    type: "usage_limit_reached",
    code: "usage_limit_reached",
    headers: retryAfter !== undefined ? { "retry-after": String(retryAfter) } : {},
    extra: { resets_at: resetsAt ?? null, resets_in_seconds: retryAfter ?? null, plan_type: plan ?? null },
  });
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Detects Cloudflare's HTML challenge (or its empty-404 path block) instead of an API answer. */
function isCloudflareBlock(status: number, contentType: string | null, bodyText: string, headers: Headers): boolean {
  if (headers.get("cf-mitigated")) return true;
  if (
    status === 403 &&
    (contentType?.includes("text/html") || /<html|just a moment|cf-chl|challenge-platform/i.test(bodyText))
  )
    return true;
  return status === 404 && bodyText.trim() === "" && headers.has("cf-ray");
}

function cloudflareBlocked(): ProxyError {
  return new ProxyError(
    502,
    "Cloudflare blocked the request to chatgpt.com with a browser challenge (HTML 403), so the Codex backend " +
      "never saw it. This often happens from Cloudflare Workers or data-centre IPs: run `codex-proxy serve` on " +
      "your own machine, or route the Worker through a tunnel to it.",
    {
      type: "upstream_error",
      code: "cloudflare_challenge",
    },
  );
}

/**
 * Maps a non-2xx upstream HTTP answer (already read as text) to a client error.
 * 401s and retries are decided by the caller; this only names what happened.
 */
export function upstreamHttpError(status: number, bodyText: string, headers: Headers, nowMs: number): ProxyError {
  if (isCloudflareBlock(status, headers.get("content-type"), bodyText, headers)) return cloudflareBlocked();
  let body: Record<string, unknown> = {};
  try {
    body = asRecord(JSON.parse(bodyText)) ?? {};
  } catch {
    // Not JSON: fall through with the raw text, trimmed.
  }
  const err = asRecord(body.error);
  const errType = str(err?.type);
  const errCode = str(err?.code);
  const detail =
    str(body.detail) ?? str(err?.message) ?? str(body.message) ?? (bodyText.trim().slice(0, 300) || undefined);

  if (status === 429 && errType === "usage_limit_reached")
    return usageLimitError(body, nowMs, readRateLimits(headers, nowMs)?.windows);
  if (errType === "usage_not_included" || errCode === "usage_not_included") {
    return new ProxyError(
      403,
      "Your ChatGPT plan does not include Codex. Use an account whose plan includes Codex, then run `codex-proxy login`.",
      {
        type: "usage_not_included",
        code: "usage_not_included",
      },
    );
  }
  if (status === 401) {
    return new ProxyError(
      401,
      "The Codex backend rejected the access token, and refreshing it did not help. Run `codex-proxy login` to sign in again.",
      {
        type: "authentication_error",
        code: "invalid_credentials",
      },
    );
  }
  if (status === 429) {
    return new ProxyError(429, `The Codex backend is rate limiting requests: ${detail ?? "too many requests"}`, {
      type: "rate_limit_error",
      code: errCode ?? "rate_limit_exceeded",
      headers: headers.get("retry-after") ? { "retry-after": headers.get("retry-after")! } : {},
    });
  }
  if (status >= 400 && status < 500) {
    // The backend's own explanation is the most useful thing we can pass on.
    return new ProxyError(
      status === 404 ? 404 : status === 403 ? 403 : 400,
      `Codex backend rejected the request: ${detail ?? `HTTP ${status}`}`,
      {
        code: errCode ?? null,
        param: str(err?.param) ?? null,
      },
    );
  }
  return new ProxyError(502, `Codex backend error (HTTP ${status}): ${detail ?? "no details"}`, {
    type: "upstream_error",
    code: "upstream_error",
  });
}
