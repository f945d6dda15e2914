/**
 * What the Codex backend added in 2026 (docs/protocol.md §11), kept apart from
 * the core fake so that each addition stays small: compaction items and the
 * compaction trigger. Used by codex-backend.ts.
 */
import type { Rejection } from "./codex-validation.js";

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const invalid = (message: string, param: string): Rejection => ({
  status: 400,
  body: { error: { message, type: "invalid_request_error", param, code: "invalid_value" } },
});

/** True when the request asks for a compaction: its input ends with the trigger item. */
export function isCompactionRequest(body: Json): boolean {
  const input = Array.isArray(body.input) ? body.input : [];
  const last: unknown = input.at(-1);
  return isRecord(last) && last.type === "compaction_trigger";
}

/**
 * The trigger must be the final input item, and a replayed `compaction` item
 * must carry the `encrypted_content` the backend produced.
 */
export function checkCompactionItems(input: unknown[]): Rejection | undefined {
  for (const [i, item] of input.entries()) {
    if (!isRecord(item)) continue;
    if (item.type === "compaction_trigger" && i !== input.length - 1)
      return invalid("The 'compaction_trigger' item must be the final input item.", `input[${i}]`);
    if (item.type === "compaction" && (typeof item.encrypted_content !== "string" || !item.encrypted_content))
      return invalid(`Missing required parameter: 'input[${i}].encrypted_content'.`, `input[${i}].encrypted_content`);
  }
  return undefined;
}

/**
 * Rate-limit headers as the backend sent them while its 5-hour window was
 * gone: only the weekly window, and in the primary slot.
 */
export function weeklyOnlyRateLimitHeaders(usedPercent: number): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return {
    "x-codex-primary-used-percent": String(usedPercent),
    "x-codex-primary-window-minutes": "10080",
    "x-codex-primary-reset-at": String(now + 2 * 86400),
    "x-codex-credits-has-credits": "false",
    "x-codex-credits-unlimited": "false",
    "x-codex-active-limit": "codex",
  };
}
