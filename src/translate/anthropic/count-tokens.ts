/**
 * POST /v1/messages/count_tokens: the backend has no such endpoint, so the
 * count is estimated from the translated request. The estimate leans high
 * on purpose: clients use it to decide when to compact, and an undercount
 * lets a request overflow the context. It splits text the way o200k_base
 * (the Codex models' tokenizer) pre-splits it, and counts each piece at
 * the low end of what that tokenizer achieves: a run of letters at 4
 * characters a token, digits at 3 (it groups them by three), every
 * punctuation mark and every non-ASCII character as a token of its own
 * (CJK is close to one per character; accented text is overcounted), a
 * run of whitespace with a line break as one. Images and files count a
 * fixed amount. The unit tests hold it above the real tokenizer's count,
 * and within 2× on the recorded Claude Code requests.
 */
import { isRecord, type Json } from "../json.js";

/** The most an image costs (Anthropic's own figure for a full-size image is ~1,600). */
const TOKENS_PER_IMAGE = 1_600;
/** Role markers and separators around each item. */
const TOKENS_PER_ITEM = 4;

/** Pieces: a word with the space before it, a run of digits, a run of whitespace, one other character. */
const PIECES = / ?[A-Za-z]+|[0-9]+|\s+|[^\sA-Za-z0-9]/g;

export function estimateTextTokens(text: string): number {
  let tokens = 0;
  for (const [piece] of text.matchAll(PIECES)) {
    const last = piece.charCodeAt(piece.length - 1);
    if ((last | 32) >= 97 && (last | 32) <= 122) {
      const letters = piece.charCodeAt(0) === 32 ? piece.length - 1 : piece.length;
      tokens += Math.ceil(letters / 4);
    } else if (last >= 48 && last <= 57) tokens += Math.ceil(piece.length / 3);
    else tokens += 1; // whitespace run, punctuation mark, non-ASCII character
  }
  return tokens;
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
