/**
 * Builds upstream event streams in the shapes of test/fixtures: the same
 * event names, fields, key order and framing the Codex backend sends
 * (docs/protocol.md §5): `event: <type>\ndata: <json>\n\n`, the JSON repeating `type`
 * followed by `sequence_number`, no `[DONE]`.
 *
 * Everything is built as strings up front, so that a 2,000-delta answer costs
 * a few string concatenations and not 2,000 object spreads.
 */
import { randomBytes } from "node:crypto";

export interface Usage {
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

export type SseEvent = { type: string } & Record<string, unknown>;

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------
// ids

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function hexId(prefix: string, bytes = 16): string {
  return prefix + randomBytes(bytes).toString("hex");
}

export function alnumId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (let i = 0; i < length; i++) out += ALNUM[bytes[i]! % ALNUM.length];
  return out;
}

/** `call_` + 24 letters/digits, like `call_Qm3vT8xYp2LkR7nD5sWe1HcZ`. */
export const newCallId = (): string => alnumId("call_", 24);

function encryptedBlob(): string {
  return `gAAAAAB${randomBytes(72).toString("base64url")}`;
}

// The backend pads deltas with a random `obfuscation` string; parsers ignore it.
const OBFUSCATION = [
  "q3Zk",
  "T8",
  "uVn0aX",
  "9L",
  "Zq1",
  "xK2pW7",
  "m",
  "R4tY",
  "bN8",
  "Hs0QjE1",
  "p",
  "Wd",
  "c7Vf",
  "Lr9",
  "eY3uI",
  "A",
];

// ---------------------------------------------------------------------------
// text splitting

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Splits `text` into exactly `pieces` non-empty parts of near-equal length
 * (fewer when the text is shorter than that), never inside a surrogate pair.
 * An empty text gives no parts.
 */
export function splitText(text: string, pieces: number): string[] {
  if (text.length === 0) return [];
  const units: string[] | string = SURROGATE.test(text) ? Array.from(text) : text;
  const length = units.length;
  const n = Math.max(1, Math.min(Math.floor(pieces), length));
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const start = Math.floor((i * length) / n);
    const end = Math.floor(((i + 1) * length) / n);
    out[i] = typeof units === "string" ? units.slice(start, end) : units.slice(start, end).join("");
  }
  return out;
}

// ---------------------------------------------------------------------------
// the `response` object

/** What the backend echoes about the request in every `response` object. */
export interface ResponseShell {
  id: string;
  createdAt: number;
  model: string;
  instructions: string;
  parallelToolCalls: boolean;
  promptCacheKey: string | null;
  reasoning: { effort: string | null; summary: string | null };
  serviceTier: string;
  text: Json;
  toolChoice: unknown;
  tools: unknown[];
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The shell of the response to a (validated) request body. */
export function shellFor(body: Json, options: { model?: string; defaultEffort?: string | null } = {}): ResponseShell {
  const reasoning = isRecord(body.reasoning) ? body.reasoning : {};
  const text = isRecord(body.text) ? body.text : {};
  return {
    id: hexId("resp_"),
    createdAt: Math.floor(Date.now() / 1000),
    model: options.model ?? String(body.model),
    instructions: typeof body.instructions === "string" ? body.instructions : "",
    parallelToolCalls: typeof body.parallel_tool_calls === "boolean" ? body.parallel_tool_calls : true,
    promptCacheKey: typeof body.prompt_cache_key === "string" ? body.prompt_cache_key : null,
    reasoning: {
      effort: typeof reasoning.effort === "string" ? reasoning.effort : (options.defaultEffort ?? null),
      summary: typeof reasoning.summary === "string" ? reasoning.summary : null,
    },
    serviceTier: typeof body.service_tier === "string" ? body.service_tier : "auto",
    text: {
      format: isRecord(text.format) ? text.format : { type: "text" },
      verbosity: typeof text.verbosity === "string" ? text.verbosity : "medium",
    },
    toolChoice: body.tool_choice ?? "auto",
    tools: Array.isArray(body.tools) ? body.tools : [],
  };
}

/** A `response` object in the fixtures' key order. `output` stays empty (store=false). */
export function responseObject(
  shell: ResponseShell,
  status: string,
  extra: { error?: Json | null; incomplete_details?: Json | null; usage?: Json | null } = {},
): Json {
  return {
    id: shell.id,
    object: "response",
    created_at: shell.createdAt,
    status,
    background: false,
    error: extra.error ?? null,
    incomplete_details: extra.incomplete_details ?? null,
    instructions: shell.instructions,
    max_output_tokens: null,
    model: shell.model,
    output: [],
    parallel_tool_calls: shell.parallelToolCalls,
    previous_response_id: null,
    prompt_cache_key: shell.promptCacheKey,
    reasoning: shell.reasoning,
    service_tier: shell.serviceTier,
    store: false,
    temperature: 1.0,
    text: shell.text,
    tool_choice: shell.toolChoice,
    tools: shell.tools,
    top_p: 1.0,
    truncation: "disabled",
    usage: extra.usage ?? null,
    user: null,
    metadata: {},
  };
}

export function usageObject(usage: Usage): Json {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.cached_tokens },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

/** Rough token counts (about 4 characters a token), overridable field by field. */
export function estimateUsage(
  requestBytes: number,
  outputChars: number,
  reasoningChars: number,
  override: Partial<Usage> = {},
): Usage {
  const reasoning = override.reasoning_tokens ?? 12 + Math.ceil(reasoningChars / 4);
  return {
    input_tokens: override.input_tokens ?? Math.max(1, Math.ceil(requestBytes / 4)),
    cached_tokens: override.cached_tokens ?? 0,
    output_tokens: override.output_tokens ?? reasoning + Math.max(1, Math.ceil(outputChars / 4)),
    reasoning_tokens: reasoning,
  };
}

// ---------------------------------------------------------------------------
// framing

/** Numbers the events of one stream and frames them. */
export class EventFramer {
  private sequence = 0;

  frame(event: SseEvent): string {
    // `type` first, then `sequence_number`, then the rest: the fixtures' key order.
    const { type, ...rest } = event;
    const data = JSON.stringify({ type, sequence_number: this.sequence++, ...rest });
    return `event: ${type}\ndata: ${data}\n\n`;
  }

  /** A `response.output_text.delta`, templated (the hot path of long answers). */
  textDelta(itemId: string, outputIndex: number, delta: string): string {
    const seq = this.sequence++;
    return (
      `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${seq},` +
      `"item_id":"${itemId}","output_index":${outputIndex},"content_index":0,"delta":${JSON.stringify(delta)},` +
      `"logprobs":[],"obfuscation":"${OBFUSCATION[seq & 15]}"}\n\n`
    );
  }
}

// ---------------------------------------------------------------------------
// items

export function startFrames(f: EventFramer, shell: ResponseShell, inProgress = true): string[] {
  const frames = [f.frame({ type: "response.created", response: responseObject(shell, "in_progress") })];
  if (inProgress)
    frames.push(f.frame({ type: "response.in_progress", response: responseObject(shell, "in_progress") }));
  return frames;
}

/** The reasoning item at `outputIndex`, with summary paragraphs streamed when given. */
export function reasoningFrames(
  f: EventFramer,
  outputIndex: number,
  summary: string[] | undefined,
  encrypted: boolean,
): string[] {
  const id = hexId("rs_");
  const blob = encrypted ? { encrypted_content: encryptedBlob() } : {};
  const paragraphs = summary ?? [];
  const frames = [
    f.frame({
      type: "response.output_item.added",
      output_index: outputIndex,
      item: { id, type: "reasoning", ...blob, summary: [] },
    }),
  ];
  paragraphs.forEach((text, summaryIndex) => {
    const at = { item_id: id, output_index: outputIndex, summary_index: summaryIndex };
    frames.push(
      f.frame({ type: "response.reasoning_summary_part.added", ...at, part: { type: "summary_text", text: "" } }),
    );
    for (const delta of splitText(text, 3)) {
      frames.push(f.frame({ type: "response.reasoning_summary_text.delta", ...at, delta, obfuscation: "Zq1" }));
    }
    frames.push(f.frame({ type: "response.reasoning_summary_text.done", ...at, text }));
    frames.push(f.frame({ type: "response.reasoning_summary_part.done", ...at, part: { type: "summary_text", text } }));
  });
  const done = { id, type: "reasoning", ...blob, summary: paragraphs.map((text) => ({ type: "summary_text", text })) };
  frames.push(f.frame({ type: "response.output_item.done", output_index: outputIndex, item: done }));
  return frames;
}

export interface MessageFrames {
  /** output_item.added + content_part.added */
  head: string[];
  /** one output_text.delta each */
  deltas: string[];
  /** output_text.done + content_part.done + output_item.done */
  tail: string[];
}

/**
 * An assistant message at `outputIndex`. The three parts are framed in
 * order, so the sequence numbers stay right however they are written.
 */
export function messageFrames(
  f: EventFramer,
  outputIndex: number,
  pieces: string[],
  options: {
    phase?: "final_answer" | "commentary";
    status?: "completed" | "incomplete";
    deltaLimit?: number;
    /** Annotations of the finished text part (web search citations). */
    annotations?: Json[];
  } = {},
): MessageFrames {
  const id = hexId("msg_");
  const phase = options.phase ?? "final_answer";
  const text = pieces.join("");
  const emptyPart = { type: "output_text", annotations: [], logprobs: [], text: "" };
  const head = [
    f.frame({
      type: "response.output_item.added",
      output_index: outputIndex,
      item: { id, type: "message", status: "in_progress", content: [], phase, role: "assistant" },
    }),
    f.frame({
      type: "response.content_part.added",
      item_id: id,
      output_index: outputIndex,
      content_index: 0,
      part: emptyPart,
    }),
  ];
  const limit = Math.min(pieces.length, options.deltaLimit ?? pieces.length);
  const deltas = new Array<string>(limit);
  for (let i = 0; i < limit; i++) deltas[i] = f.textDelta(id, outputIndex, pieces[i]!);
  if (limit < pieces.length) return { head, deltas, tail: [] };
  const part = { ...emptyPart, text, annotations: options.annotations ?? [] };
  const tail = [
    f.frame({
      type: "response.output_text.done",
      item_id: id,
      output_index: outputIndex,
      content_index: 0,
      text,
      logprobs: [],
    }),
    f.frame({ type: "response.content_part.done", item_id: id, output_index: outputIndex, content_index: 0, part }),
    f.frame({
      type: "response.output_item.done",
      output_index: outputIndex,
      item: { id, type: "message", status: options.status ?? "completed", content: [part], phase, role: "assistant" },
    }),
  ];
  return { head, deltas, tail };
}

export function functionCallFrames(
  f: EventFramer,
  outputIndex: number,
  call: { name: string; arguments: string; callId?: string },
  argumentDeltas: number,
): string[] {
  const id = hexId("fc_");
  const item = {
    id,
    type: "function_call",
    status: "in_progress",
    arguments: "",
    call_id: call.callId ?? newCallId(),
    name: call.name,
  };
  const frames = [f.frame({ type: "response.output_item.added", output_index: outputIndex, item })];
  for (const delta of splitText(call.arguments, argumentDeltas)) {
    frames.push(
      f.frame({
        type: "response.function_call_arguments.delta",
        item_id: id,
        output_index: outputIndex,
        delta,
        obfuscation: "xxx",
      }),
    );
  }
  frames.push(
    f.frame({
      type: "response.function_call_arguments.done",
      item_id: id,
      output_index: outputIndex,
      arguments: call.arguments,
    }),
  );
  frames.push(
    f.frame({
      type: "response.output_item.done",
      output_index: outputIndex,
      item: { ...item, status: "completed", arguments: call.arguments },
    }),
  );
  return frames;
}

/** `response.completed` with an EMPTY `output`, as the real backend sends with store=false. */
export function completedFrame(f: EventFramer, shell: ResponseShell, usage: Usage): string {
  return f.frame({
    type: "response.completed",
    response: responseObject(shell, "completed", { usage: usageObject(usage) }),
  });
}

export function incompleteFrame(f: EventFramer, shell: ResponseShell, reason: string, usage: Usage): string {
  return f.frame({
    type: "response.incomplete",
    response: responseObject(shell, "incomplete", { incomplete_details: { reason }, usage: usageObject(usage) }),
  });
}

export function failedFrame(f: EventFramer, shell: ResponseShell, code: string, message: string): string {
  return f.frame({ type: "response.failed", response: responseObject(shell, "failed", { error: { code, message } }) });
}

/** A top-level `error` event: fields at the top, no `response` object. */
export function errorFrame(f: EventFramer, code: string, message: string): string {
  return f.frame({ type: "error", code, message, param: null });
}

/**
 * The answer to a compaction request (input ending in `compaction_trigger`):
 * one `compaction` item carrying `encrypted_content`, added and done.
 */
export function compactionFrames(f: EventFramer, outputIndex: number): string[] {
  const item = { id: hexId("cmp_"), type: "compaction", encrypted_content: encryptedBlob() };
  return [
    f.frame({ type: "response.output_item.added", output_index: outputIndex, item }),
    f.frame({ type: "response.output_item.done", output_index: outputIndex, item }),
  ];
}

/** A hosted web search call (`web_search_call`), added and done, as the backend streams it. */
export function webSearchCallFrames(f: EventFramer, outputIndex: number, query: string): string[] {
  const id = hexId("ws_");
  return [
    f.frame({
      type: "response.output_item.added",
      output_index: outputIndex,
      item: { id, type: "web_search_call", status: "in_progress" },
    }),
    f.frame({ type: "response.web_search_call.in_progress", output_index: outputIndex, item_id: id }),
    f.frame({ type: "response.web_search_call.searching", output_index: outputIndex, item_id: id }),
    f.frame({ type: "response.web_search_call.completed", output_index: outputIndex, item_id: id }),
    f.frame({
      type: "response.output_item.done",
      output_index: outputIndex,
      item: { id, type: "web_search_call", status: "completed", action: { type: "search", query } },
    }),
  ];
}
