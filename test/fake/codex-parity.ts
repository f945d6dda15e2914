/**
 * What the Codex backend added in 2026 (docs/protocol.md §11), kept apart from
 * the core fake so that each addition stays small: compaction items and the
 * compaction trigger. Used by codex-backend.ts.
 */
import { checkFields, type Rejection } from "./codex-validation.js";

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

// ---------------------------------------------------------------------------
// images/generations and images/edits

/** The top-level fields each image route accepts; any other is a 400, as on /responses (`checkFields`). */
export const IMAGE_GENERATION_FIELDS: ReadonlySet<string> = new Set([
  "prompt",
  "model",
  "size",
  "quality",
  "background",
  "n",
]);
export const IMAGE_EDIT_FIELDS: ReadonlySet<string> = new Set([...IMAGE_GENERATION_FIELDS, "images"]);
/** A 1×1 transparent PNG. */
export const FAKE_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/**
 * The answer to an image request, or its rejection: the backend takes only
 * its known JSON fields (edits add `images`), needs a prompt, and answers
 * `{created, data:[{b64_json}], usage}`.
 */
export function answerImages(endpoint: string, body: unknown): { status: number; body: Record<string, unknown> } {
  if (endpoint !== "generations" && endpoint !== "edits") return { status: 404, body: { detail: "Not Found" } };
  if (!isRecord(body)) return { status: 400, body: { detail: "Invalid JSON body" } };
  const unknownField = checkFields(body, endpoint === "edits" ? IMAGE_EDIT_FIELDS : IMAGE_GENERATION_FIELDS);
  if (unknownField) return unknownField;
  if (typeof body.prompt !== "string" || !body.prompt)
    return invalid("Missing required parameter: 'prompt'.", "prompt");
  if (endpoint === "edits") {
    const images = body.images;
    if (!Array.isArray(images) || images.length === 0)
      return invalid("Missing required parameter: 'images'.", "images");
    for (const [i, image] of images.entries())
      if (!isRecord(image) || typeof image.image_url !== "string" || !image.image_url.startsWith("data:image/"))
        return invalid(`Invalid 'images[${i}].image_url': expected a data:image URL.`, `images[${i}].image_url`);
  }
  const n = typeof body.n === "number" ? body.n : 1;
  return {
    status: 200,
    body: {
      created: Math.floor(Date.now() / 1000),
      data: Array.from({ length: n }, () => ({ b64_json: FAKE_PNG_BASE64 })),
      usage: { input_tokens: 50, output_tokens: 1056, total_tokens: 1106 },
    },
  };
}

// ---------------------------------------------------------------------------
// hosted web_search

// search_content_types: sent by the Codex CLI 0.171, which the real backend accepts.
const WEB_SEARCH_FIELDS = new Set([
  "type",
  "search_context_size",
  "user_location",
  "filters",
  "external_web_access",
  "search_content_types",
]);

/** True when the request offers the hosted web_search tool. */
export function offersWebSearch(body: Json): boolean {
  return Array.isArray(body.tools) && body.tools.some((tool) => isRecord(tool) && tool.type === "web_search");
}

/** A hosted web_search tool takes only its own fields. */
export function checkWebSearchTools(tools: unknown): Rejection | undefined {
  if (!Array.isArray(tools)) return undefined;
  for (const [i, tool] of tools.entries()) {
    if (!isRecord(tool) || tool.type !== "web_search") continue;
    for (const key of Object.keys(tool))
      if (!WEB_SEARCH_FIELDS.has(key)) return invalid(`Unknown parameter: 'tools[${i}].${key}'.`, `tools[${i}].${key}`);
  }
  return undefined;
}

/** The citation the fake's web search answer carries. */
export const FAKE_CITATION = { url: "https://example.com/lighthouses", title: "Lighthouses of the world" };
