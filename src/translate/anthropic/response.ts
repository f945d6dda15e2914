/**
 * Upstream Responses events → Anthropic Messages stream events (streaming) or
 * one message object (aggregated). Pure and incremental like the chat
 * translator. The stream keeps Anthropic's order: message_start, then per
 * block content_block_start / deltas / content_block_stop, then
 * message_delta (stop_reason, usage) and message_stop. A failure after the
 * start is an `event: error`, never a normal-looking end.
 */
import type { OutputItem, UpstreamEvent, UpstreamUsage } from "../../codex/events.js";
import { inStreamFailure, prematureClose } from "../../codex/upstream-errors.js";
import type { ProxyError } from "../../core/errors.js";
import { collectAnswer } from "../collect-answer.js";
import { restoreToolName, type ToolNameMap } from "../tool-names.js";
import { anthropicErrorEvent } from "./errors.js";
import { signatureFor } from "./signature.js";

export interface AnthropicResponseOptions {
  id: string;
  /** The model name the client asked for. */
  model: string;
  /** Thinking blocks are sent (the client did not disable thinking). */
  thinking: boolean;
  toolNames: ToolNameMap;
}

interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** Anthropic counts cached input apart from `input_tokens`; the backend includes it. */
function toAnthropicUsage(usage: UpstreamUsage | null | undefined): AnthropicUsage {
  const input = usage?.input_tokens ?? 0;
  const cached = Math.min(usage?.input_tokens_details?.cached_tokens ?? 0, input);
  return {
    input_tokens: input - cached,
    output_tokens: usage?.output_tokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

type StopReason = "end_turn" | "tool_use" | "max_tokens" | "refusal";

function stopReasonFor(terminal: UpstreamEvent, sawToolUse: boolean): StopReason {
  if (sawToolUse) return "tool_use";
  if (terminal.type === "response.incomplete") {
    return terminal.response?.incomplete_details?.reason === "content_filter" ? "refusal" : "max_tokens";
  }
  return "end_turn";
}

function frame(type: string, data: string): string {
  return `event: ${type}\ndata: ${data}\n\n`;
}

export const PING_FRAME = frame("ping", '{"type":"ping"}');

const FUNCTION_ITEM_TYPES = new Set(["function_call", "custom_tool_call"]);

/** The block being streamed; `deltaPrefix` is its delta frame up to the text literal, built once per block. */
type OpenBlock =
  | { kind: "text"; index: number; itemId: string | undefined; deltaPrefix: string }
  | { kind: "thinking"; index: number; itemId: string | undefined; deltaPrefix: string }
  | { kind: "tool_use"; index: number; itemId: string | undefined; argumentsSent: boolean };

function deltaPrefix(index: number, type: string, field: string): string {
  return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"${type}","${field}":`;
}

const DELTA_END = "}}\n\n";

function summaryText(item: OutputItem): string {
  return (item.summary ?? [])
    .map((s) => s.text ?? "")
    .filter(Boolean)
    .join("\n\n");
}

function messageText(item: OutputItem): string {
  let text = "";
  for (const part of item.content ?? [])
    if (part.type === "output_text" && typeof part.text === "string") text += part.text;
  return text;
}

function functionArguments(item: OutputItem): string {
  return (item.type === "custom_tool_call" ? item.input : item.arguments) ?? "";
}

export class AnthropicStreamTranslator {
  private started = false;
  private finished = false;
  private failed: ProxyError | undefined;
  private nextIndex = 0;
  private open: OpenBlock | undefined;
  private sawToolUse = false;

  constructor(private readonly options: AnthropicResponseOptions) {}

  get done(): boolean {
    return this.finished;
  }

  get failure(): ProxyError | undefined {
    return this.failed;
  }

  /** message_start (usage is not known yet: it comes with message_delta) and a first ping. */
  private start(): string {
    if (this.started) return "";
    this.started = true;
    const message = {
      id: this.options.id,
      type: "message",
      role: "assistant",
      model: this.options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    return frame("message_start", JSON.stringify({ type: "message_start", message })) + PING_FRAME;
  }

  private openBlock(block: OpenBlock, contentBlock: string): string {
    const out = this.closeBlock();
    this.open = block;
    return `${out}${frame("content_block_start", `{"type":"content_block_start","index":${block.index},"content_block":${contentBlock}}`)}`;
  }

  private closeBlock(): string {
    if (!this.open) return "";
    const index = this.open.index;
    this.open = undefined;
    return frame("content_block_stop", `{"type":"content_block_stop","index":${index}}`);
  }

  private delta(index: number, delta: string): string {
    return frame("content_block_delta", `{"type":"content_block_delta","index":${index},"delta":${delta}}`);
  }

  /**
   * Text from a JSON string literal (the fast path hands literals over without
   * parsing, and without the item id: text continues the open text block,
   * which its message item's end closes).
   */
  private textLiteral(itemId: string | undefined, literal: string): string {
    const open = this.open;
    if (open?.kind === "text" && (itemId === undefined || open.itemId === undefined || open.itemId === itemId))
      return open.deltaPrefix + literal + DELTA_END;
    const index = this.nextIndex++;
    const block = { kind: "text" as const, index, itemId, deltaPrefix: deltaPrefix(index, "text_delta", "text") };
    return this.openBlock(block, '{"type":"text","text":""}') + block.deltaPrefix + literal + DELTA_END;
  }

  private thinkingLiteral(itemId: string | undefined, literal: string): string {
    if (!this.options.thinking) return "";
    const open = this.open;
    if (open?.kind === "thinking" && open.itemId === itemId) return open.deltaPrefix + literal + DELTA_END;
    const index = this.nextIndex++;
    const block = {
      kind: "thinking" as const,
      index,
      itemId,
      deltaPrefix: deltaPrefix(index, "thinking_delta", "thinking"),
    };
    return (
      this.openBlock(block, '{"type":"thinking","thinking":"","signature":""}') +
      block.deltaPrefix +
      literal +
      DELTA_END
    );
  }

  private openToolUse(item: OutputItem): string {
    this.sawToolUse = true;
    const name = restoreToolName(item.name ?? "", this.options.toolNames);
    const id = item.call_id ?? item.id ?? `call_${this.nextIndex}`;
    return this.openBlock(
      { kind: "tool_use", index: this.nextIndex++, itemId: item.id, argumentsSent: false },
      `{"type":"tool_use","id":${JSON.stringify(id)},"name":${JSON.stringify(name)},"input":{}}`,
    );
  }

  private argumentsLiteralFor(literal: string): string {
    const open = this.open;
    if (open?.kind !== "tool_use" || literal.length <= 2) return "";
    open.argumentsSent = true;
    return this.delta(open.index, `{"type":"input_json_delta","partial_json":${literal}}`);
  }

  /** The end of an output item: whatever its deltas did not carry, then the block's end. */
  private itemDone(item: OutputItem): string {
    const sameItem = this.open !== undefined && this.open.itemId === item.id;
    if (item.type === "reasoning") {
      let out = "";
      if (!this.options.thinking) return "";
      if (!sameItem || this.open?.kind !== "thinking") {
        // No summary was streamed. Only a block with text is sent: an empty, signature-only
        // thinking block before a tool_use makes Claude Code refuse the answer.
        const text = summaryText(item);
        if (!text) return "";
        out += this.thinkingLiteral(item.id, JSON.stringify(text));
      }
      if (typeof item.encrypted_content === "string" && item.encrypted_content) {
        out += this.delta(
          this.open!.index,
          `{"type":"signature_delta","signature":${JSON.stringify(signatureFor(item.encrypted_content))}}`,
        );
      }
      return out + this.closeBlock();
    }
    if (item.type === "message") {
      if (this.open?.kind === "text" && (sameItem || this.open.itemId === undefined)) return this.closeBlock();
      const text = messageText(item);
      return text ? this.textLiteral(item.id, JSON.stringify(text)) + this.closeBlock() : "";
    }
    if (FUNCTION_ITEM_TYPES.has(item.type)) {
      let out = sameItem && this.open?.kind === "tool_use" ? "" : this.openToolUse(item);
      const open = this.open as Extract<OpenBlock, { kind: "tool_use" }>;
      const args = functionArguments(item);
      if (!open.argumentsSent && args) out += this.argumentsLiteralFor(JSON.stringify(args));
      return out + this.closeBlock();
    }
    return "";
  }

  private finish(terminal: UpstreamEvent): string {
    this.finished = true;
    const stopReason = stopReasonFor(terminal, this.sawToolUse);
    const usage = toAnthropicUsage(terminal.response?.usage);
    return (
      this.closeBlock() +
      frame(
        "message_delta",
        JSON.stringify({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage }),
      ) +
      frame("message_stop", '{"type":"message_stop"}')
    );
  }

  push(event: UpstreamEvent): string {
    if (this.finished) return "";
    const head = this.start();
    switch (event.type) {
      case "response.output_text.delta":
        return event.delta ? head + this.textLiteral(event.item_id, JSON.stringify(event.delta)) : head;
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta":
        return event.delta ? head + this.thinkingLiteral(event.item_id, JSON.stringify(event.delta)) : head;
      case "response.reasoning_summary_part.added":
        // A paragraph break between summary parts.
        return (event.summary_index ?? 0) > 0 && this.open?.kind === "thinking"
          ? head + this.thinkingLiteral(event.item_id, '"\\n\\n"')
          : head;
      case "response.output_item.added": {
        const item = event.item;
        if (!item || !FUNCTION_ITEM_TYPES.has(item.type)) return head;
        const initial = functionArguments(item);
        return head + this.openToolUse(item) + (initial ? this.argumentsLiteralFor(JSON.stringify(initial)) : "");
      }
      case "response.function_call_arguments.delta":
      case "response.custom_tool_call_input.delta":
        if (!event.delta || this.open?.itemId !== event.item_id) return head;
        return head + this.argumentsLiteralFor(JSON.stringify(event.delta));
      case "response.output_item.done":
        return event.item ? head + this.itemDone(event.item) : head;
      case "response.completed":
      case "response.incomplete":
        return head + this.finish(event);
      case "response.failed":
      case "error":
        return head + this.fail(inStreamFailure(event));
      default:
        return head;
    }
  }

  /** Fast paths for the delta events, given the delta's raw JSON string literal. Same output as `push`. */
  contentLiteral(literal: string): string {
    if (this.finished) return "";
    const head = this.start();
    // No item id needed: text continues the open text block.
    return literal.length > 2 ? head + this.textLiteral(undefined, literal) : head;
  }

  reasoningLiteral(itemId: string, literal: string): string {
    if (this.finished) return "";
    const head = this.start();
    return literal.length > 2 ? head + this.thinkingLiteral(itemId, literal) : head;
  }

  argumentsLiteral(itemId: string, literal: string): string {
    if (this.finished) return "";
    const head = this.start();
    return this.open?.itemId === itemId ? head + this.argumentsLiteralFor(literal) : head;
  }

  /** An `event: error` the SDKs raise; the stream ends there. */
  fail(error: ProxyError): string {
    if (this.finished) return "";
    this.finished = true;
    this.failed = error;
    return this.start() + anthropicErrorEvent(error);
  }

  /** The upstream closed: without a terminal event that is an error, never a normal finish. */
  end(): string {
    return this.finished ? "" : this.fail(prematureClose());
  }
}

type AnthropicContentBlock =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: unknown };

function parseInput(args: string): unknown {
  if (!args) return {};
  try {
    return JSON.parse(args);
  } catch {
    // The model wrote arguments that are not JSON; hand them over rather than lose them.
    return { _raw_arguments: args };
  }
}

/** Non-streaming: one message, built from `output_item.done` items (text deltas as fallback). */
export function aggregateAnthropicMessage(
  events: Iterable<UpstreamEvent>,
  options: AnthropicResponseOptions,
): Record<string, unknown> {
  const { items, deltaText, terminal } = collectAnswer(events);
  const content: AnthropicContentBlock[] = [];
  let sawMessage = false;
  let sawToolUse = false;
  for (const item of items) {
    if (item.type === "reasoning") {
      const text = summaryText(item);
      if (!options.thinking || !text) continue;
      const signature =
        typeof item.encrypted_content === "string" && item.encrypted_content
          ? signatureFor(item.encrypted_content)
          : "";
      content.push({ type: "thinking", thinking: text, signature });
    } else if (item.type === "message") {
      sawMessage = true;
      const text = messageText(item);
      if (text) content.push({ type: "text", text });
    } else if (FUNCTION_ITEM_TYPES.has(item.type)) {
      sawToolUse = true;
      content.push({
        type: "tool_use",
        id: item.call_id ?? item.id ?? `call_${content.length}`,
        name: restoreToolName(item.name ?? "", options.toolNames),
        input: parseInput(functionArguments(item)),
      });
    }
  }
  if (!sawMessage && deltaText) content.push({ type: "text", text: deltaText });
  return {
    id: options.id,
    type: "message",
    role: "assistant",
    model: options.model,
    content,
    stop_reason: stopReasonFor(terminal, sawToolUse),
    stop_sequence: null,
    usage: toAnthropicUsage(terminal.response?.usage),
  };
}
