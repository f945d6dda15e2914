/**
 * The conversation headers the current Codex client sends upstream
 * (docs/protocol.md §4.2): `session-id`, `thread-id`, `x-client-request-id`.
 * A client's own values are forwarded (the Codex CLI sends all three, the
 * conversation id in each); otherwise the proxy's conversation key (the
 * request's `prompt_cache_key`, or the chat route's derived one) fills them,
 * as the Codex CLI does for a top-level thread. Pure.
 */

const NAMES = ["session-id", "thread-id", "x-client-request-id"] as const;

/** Ids are opaque tokens; anything else (spaces, control characters, huge values) is not forwarded. */
const SAFE_VALUE = /^[\x21-\x7e]{1,256}$/;

function clientValue(headers: Headers | undefined, name: string): string | undefined {
  // Older clients say `session_id`; it names the same thing.
  const raw = headers?.get(name) ?? (name === "session-id" ? headers?.get("session_id") : null);
  const value = raw?.trim();
  return value && SAFE_VALUE.test(value) ? value : undefined;
}

export function conversationHeaders(
  clientHeaders: Headers | undefined,
  conversationKey: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  const fallback = conversationKey && SAFE_VALUE.test(conversationKey) ? conversationKey : undefined;
  for (const name of NAMES) {
    const value = clientValue(clientHeaders, name) ?? fallback;
    if (value) out[name] = value;
  }
  return out;
}
