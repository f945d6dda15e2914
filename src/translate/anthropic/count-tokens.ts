/**
 * POST /v1/messages/count_tokens: the backend has no such endpoint, so the
 * count is estimated from the translated request. The estimate leans high
 * on purpose: clients use it to decide when to compact, and an undercount
 * lets a request overflow the context. o200k_base (the Codex models'
 * tokenizer) averages about 4 characters of English or code per token; we
 * count 3, every non-ASCII character as a token of its own (CJK is close to
 * one per character, accented Latin text is overcounted), and a fixed
 * amount per image and per item. The unit tests hold it to within bounds of
 * the real tokenizer on the recorded Claude Code requests.
 */

const CHARS_PER_TOKEN = 3;
/** The most an image costs (Anthropic's own figure for a full-size image is ~1,600). */
const TOKENS_PER_IMAGE = 1_600;
/** Role markers and separators around each item. */
const TOKENS_PER_ITEM = 4;

type Json = Record<string, unknown>;

export function estimateTextTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 128) ascii++;
    else if (code < 0xdc00 || code > 0xdfff) other++; // a surrogate pair counts once
  }
  return Math.ceil(ascii / CHARS_PER_TOKEN) + other;
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every string in a JSON value, except the bulk of inline images (counted per image). */
function countValue(value: unknown): number {
  if (typeof value === "string") return estimateTextTokens(value);
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + countValue(v), 0);
  if (!isRecord(value)) return value === undefined || value === null ? 0 : 1;
  if (value.type === "input_image") return TOKENS_PER_IMAGE;
  if (value.type === "input_file") return TOKENS_PER_IMAGE;
  let sum = 0;
  for (const [key, v] of Object.entries(value)) {
    if (key === "type" || key === "role" || key === "call_id") continue;
    // Encrypted reasoning is the model's own earlier thinking: about a token per 4 base64 characters.
    sum += key === "encrypted_content" && typeof v === "string" ? Math.ceil(v.length / 4) : countValue(v);
  }
  return sum;
}

/** The input tokens of a translated Responses request body: instructions, input items and tools. */
export function estimateInputTokens(body: Json): number {
  const input = Array.isArray(body.input) ? body.input : [];
  const tools = Array.isArray(body.tools) ? body.tools : [];
  // Tool schemas are read by the model as JSON text: count their punctuation too.
  const toolText = tools.length > 0 ? JSON.stringify(tools) : "";
  return (
    countValue(body.instructions) +
    countValue(input) +
    input.length * TOKENS_PER_ITEM +
    estimateTextTokens(toolText) +
    TOKENS_PER_ITEM
  );
}
