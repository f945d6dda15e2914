/**
 * Builds upstream event streams in the shapes of ../shared/fixtures: the same
 * event names, fields and order the Codex backend sends (PROTOCOL §5).
 */

export interface Usage {
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
}

export type SseEvent = Record<string, unknown> & { type: string };

let counter = 0;
/** Unique-enough hex ids; the fake is test code, determinism across runs is not needed. */
export function hexId(prefix: string): string {
  counter = (counter + 1) % 0xffffff;
  return `${prefix}${Date.now().toString(16)}${counter.toString(16).padStart(6, "0")}${Math.random().toString(16).slice(2, 10)}`;
}

export function frame(event: SseEvent, sequence: number): string {
  return `event: ${event.type}\ndata: ${JSON.stringify({ ...event, sequence_number: sequence })}\n\n`;
}

export function splitText(text: string, pieces: number): string[] {
  const n = Math.max(1, Math.min(pieces, text.length || 1));
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [""];
}

export interface ResponseShell {
  id: string;
  created_at: number;
  model: string;
}

export function responseObject(shell: ResponseShell, status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: shell.id,
    object: "response",
    created_at: shell.created_at,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: "",
    max_output_tokens: null,
    model: shell.model,
    output: [],
    parallel_tool_calls: true,
    previous_response_id: null,
    store: false,
    tool_choice: "auto",
    tools: [],
    usage: null,
    metadata: {},
    ...extra,
  };
}

export function usageObject(usage: Partial<Usage> = {}): Record<string, unknown> {
  const input = usage.input_tokens ?? 42;
  const output = usage.output_tokens ?? 17;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 8 },
    total_tokens: input + output,
  };
}

export function startEvents(shell: ResponseShell): SseEvent[] {
  return [
    { type: "response.created", response: responseObject(shell, "in_progress") },
    { type: "response.in_progress", response: responseObject(shell, "in_progress") },
  ];
}

export function reasoningEvents(outputIndex: number, summary: string[] | undefined, encrypted: boolean): SseEvent[] {
  const id = hexId("rs_");
  const base = { id, type: "reasoning", summary: [] as unknown[], ...(encrypted ? { encrypted_content: "gAAAAAB" + "x".repeat(40) } : {}) };
  const events: SseEvent[] = [{ type: "response.output_item.added", output_index: outputIndex, item: base }];
  (summary ?? []).forEach((text, summaryIndex) => {
    events.push({ type: "response.reasoning_summary_part.added", item_id: id, output_index: outputIndex, summary_index: summaryIndex, part: { type: "summary_text", text: "" } });
    for (const delta of splitText(text, 3)) {
      events.push({ type: "response.reasoning_summary_text.delta", item_id: id, output_index: outputIndex, summary_index: summaryIndex, delta });
    }
    events.push({ type: "response.reasoning_summary_text.done", item_id: id, output_index: outputIndex, summary_index: summaryIndex, text });
    events.push({ type: "response.reasoning_summary_part.done", item_id: id, output_index: outputIndex, summary_index: summaryIndex, part: { type: "summary_text", text } });
  });
  events.push({
    type: "response.output_item.done",
    output_index: outputIndex,
    item: { ...base, summary: (summary ?? []).map((text) => ({ type: "summary_text", text })) },
  });
  return events;
}

/** A message item; `deltas` are sent as they are (so a caller can cut the stream between them). */
export function messageEvents(outputIndex: number, deltas: string[], phase?: string): { head: SseEvent[]; deltas: SseEvent[]; tail: SseEvent[] } {
  const id = hexId("msg_");
  const text = deltas.join("");
  const item = { id, type: "message", status: "in_progress", role: "assistant", content: [] as unknown[], ...(phase ? { phase } : {}) };
  const part = { type: "output_text", annotations: [], logprobs: [], text: "" };
  return {
    head: [
      { type: "response.output_item.added", output_index: outputIndex, item },
      { type: "response.content_part.added", item_id: id, output_index: outputIndex, content_index: 0, part },
    ],
    deltas: deltas.map((delta) => ({ type: "response.output_text.delta", item_id: id, output_index: outputIndex, content_index: 0, delta, logprobs: [] })),
    tail: [
      { type: "response.output_text.done", item_id: id, output_index: outputIndex, content_index: 0, text, logprobs: [] },
      { type: "response.content_part.done", item_id: id, output_index: outputIndex, content_index: 0, part: { ...part, text } },
      {
        type: "response.output_item.done",
        output_index: outputIndex,
        item: { ...item, status: "completed", content: [{ type: "output_text", annotations: [], logprobs: [], text }] },
      },
    ],
  };
}

export function functionCallEvents(outputIndex: number, call: { name: string; arguments: string; callId?: string }, argumentDeltas: number): SseEvent[] {
  const id = hexId("fc_");
  const callId = call.callId ?? `call_${Math.random().toString(36).slice(2, 14)}`;
  const item = { id, type: "function_call", status: "in_progress", arguments: "", call_id: callId, name: call.name };
  const events: SseEvent[] = [{ type: "response.output_item.added", output_index: outputIndex, item }];
  for (const delta of splitText(call.arguments, argumentDeltas)) {
    events.push({ type: "response.function_call_arguments.delta", item_id: id, output_index: outputIndex, delta });
  }
  events.push({ type: "response.function_call_arguments.done", item_id: id, output_index: outputIndex, arguments: call.arguments });
  events.push({ type: "response.output_item.done", output_index: outputIndex, item: { ...item, status: "completed", arguments: call.arguments } });
  return events;
}

export function completedEvent(shell: ResponseShell, usage?: Partial<Usage>): SseEvent {
  // Empty output on purpose: the real backend (store=false) sends it that way.
  return { type: "response.completed", response: responseObject(shell, "completed", { usage: usageObject(usage) }) };
}
