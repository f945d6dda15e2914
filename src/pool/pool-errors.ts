/**
 * The pool's own answers: an unknown pinned account (400), a pinned account
 * at its limit and a pool whose every account is at its limit (429). The
 * 429s have the shape of the backend's usage-limit answer as the proxy passes
 * it on (docs/protocol.md §7.2): `Retry-After`, `resets_at` and
 * `resets_in_seconds`, which the Codex CLI and the OpenAI SDKs understand.
 */
import { ProxyError } from "../core/errors.js";
import { formatDuration } from "../core/time.js";

export function unknownAccount(name: string, known: readonly string[]): ProxyError {
  return new ProxyError(
    400,
    `Unknown account "${name}" in the X-Codex-Account header. This proxy's accounts: ${known.map((n) => `"${n}"`).join(", ")}.`,
    { type: "invalid_request_error", code: "unknown_account", param: "X-Codex-Account" },
  );
}

function usageLimit(message: string, resetsAtMs: number, nowMs: number): ProxyError {
  const resetsAt = Math.ceil(resetsAtMs / 1000);
  const resetsIn = Math.max(1, resetsAt - Math.floor(nowMs / 1000));
  return new ProxyError(429, message, {
    type: "usage_limit_reached",
    code: "usage_limit_reached",
    headers: { "retry-after": String(resetsIn) },
    extra: { resets_at: resetsAt, resets_in_seconds: resetsIn },
  });
}

const when = (resetsAtMs: number, nowMs: number) =>
  `${new Date(resetsAtMs).toISOString()} (in ${formatDuration(resetsAtMs - nowMs)})`;

/** Every account is at its limit: the client waits for the earliest reset. */
export function poolExhausted(accounts: number, earliestResetMs: number, nowMs: number): ProxyError {
  return usageLimit(
    `All ${accounts} accounts of this proxy have reached their ChatGPT usage limits; the earliest resets at ${when(earliestResetMs, nowMs)}.`,
    earliestResetMs,
    nowMs,
  );
}

/** The pinned account is at its limit; a pin never fails over. */
export function accountCooling(name: string, resetsAtMs: number, nowMs: number): ProxyError {
  return usageLimit(
    `Account "${name}" has reached its ChatGPT usage limit; it resets at ${when(resetsAtMs, nowMs)}. Send no X-Codex-Account header to use another account.`,
    resetsAtMs,
    nowMs,
  );
}
