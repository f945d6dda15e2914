/**
 * Upstream Responses events → Chat Completions chunks (streaming) or one
 * chat.completion (aggregated). Pure and incremental: one event in, the SSE
 * text for it out. The chunk envelope is serialised once per stream.
 */
import type { OutputItem, UpstreamEvent, UpstreamUsage } from "../codex/events.js";
import { inStreamFailure, prematureClose } from "../codex/upstream-errors.js";
import type { ReasoningOutput } from "../core/config.js";
import type { ProxyError } from "../core/errors.js";
import { collectAnswer } from "./collect-answer.js";
import { restoreToolName, type ToolNameMap } from "./tool-names.js";
import { chatAnnotations, type ChatAnnotation } from "./web-search.js";

export interface ChatResponseOptions {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  reasoningOutput: ReasoningOutput;
  toolNames: ToolNameMap;
  /**
   * The request used the legacy `functions` parameter: answer with
   * `function_call` (one call) and finish_reason `function_call`, as the
   * API did before tools.
   */
  legacyFunctions?: boolean;
}

interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

function toChatUsage(usage: UpstreamUsage | null | undefined): ChatUsage | undefined {
  if (!usage) return undefined;
  const prompt = usage.input_tokens ?? 0;
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.total_tokens ?? prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.input_tokens_details?.cached_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.output_tokens_details?.reasoning_tokens ?? 0 },
  };
}

type FinishReason = "stop" | "tool_calls" | "function_call" | "length" | "content_filter";

function incompleteReason(event: UpstreamEvent): FinishReason {
  return event.response?.incomplete_details?.reason === "content_filter" ? "content_filter" : "length";
}

function errorData(error: ProxyError): string {
  return `data: ${JSON.stringify(error.toBody())}\n\ndata: [DONE]\n\n`;
}

interface StreamedCall {
  index: number;
  argumentsSent: boolean;
}

const FUNCTION_ITEM_TYPES = new Set(["function_call", "custom_tool_call"]);

export class ChatStreamTranslator {
  private readonly prefix: string;
  private started = false;
  private thinkOpen = false;
  private readonly calls = new Map<string, StreamedCall>();
  private nextCallIndex = 0;
  private finished = false;
  private failed: ProxyError | undefined;

  constructor(private readonly options: ChatResponseOptions) {
    this.prefix =
      `data: {"id":${JSON.stringify(options.id)},"object":"chat.completion.chunk",` +
      `"created":${options.created},"model":${JSON.stringify(options.model)},"choices":`;
  }

  get done(): boolean {
    return this.finished;
  }

  get failure(): ProxyError | undefined {
    return this.failed;
  }

  private chunk(delta: string, finishReason: FinishReason | null = null): string {
    return `${this.prefix}[{"index":0,"delta":${delta},"finish_reason":${finishReason ? `"${finishReason}"` : "null"}}]}\n\n`;
  }

  private content(text: string): string {
    return this.chunk(`{"content":${JSON.stringify(text)}}`);
  }

  private start(): string {
    if (this.started) return "";
    this.started = true;
    return this.chunk('{"role":"assistant"}');
  }

  /** Closes an open <think> block before answer text or tool calls. */
  private closeThink(): string {
    if (!this.thinkOpen) return "";
    this.thinkOpen = false;
    return this.content("</think>");
  }

  private reasoning(text: string): string {
    if (!text) return "";
    switch (this.options.reasoningOutput) {
      case "off":
        return "";
      case "think-tags": {
        const open = this.thinkOpen ? "" : "<think>";
        this.thinkOpen = true;
        return this.content(open + text);
      }
      default:
        return this.chunk(`{"reasoning_content":${JSON.stringify(text)}}`);
    }
  }

  private callHeader(item: OutputItem, index: number, args: string): string {
    const name = restoreToolName(item.name ?? "", this.options.toolNames);
    if (this.options.legacyFunctions) {
      // The legacy shape has room for one call; parallel calls are off for such requests.
      if (index > 0) return "";
      return this.chunk(`{"function_call":{"name":${JSON.stringify(name)},"arguments":${JSON.stringify(args)}}}`);
    }
    return this.chunk(
      `{"tool_calls":[{"index":${index},"id":${JSON.stringify(item.call_id ?? item.id ?? `call_${index}`)},` +
        `"type":"function","function":{"name":${JSON.stringify(name)},"arguments":${JSON.stringify(args)}}}]}`,
    );
  }

  private callArguments(index: number, args: string): string {
    if (this.options.legacyFunctions)
      return index > 0 ? "" : this.chunk(`{"function_call":{"arguments":${JSON.stringify(args)}}}`);
    return this.chunk(`{"tool_calls":[{"index":${index},"function":{"arguments":${JSON.stringify(args)}}}]}`);
  }

  private callsReason(): FinishReason {
    return this.options.legacyFunctions ? "function_call" : "tool_calls";
  }

  private finish(reason: FinishReason, usage: UpstreamUsage | null | undefined): string {
    this.finished = true;
    let out = this.closeThink() + this.chunk("{}", reason);
    if (this.options.includeUsage) {
      const chatUsage = toChatUsage(usage) ?? toChatUsage({});
      out += `${this.prefix}[],"usage":${JSON.stringify(chatUsage)}}\n\n`;
    }
    return `${out}data: [DONE]\n\n`;
  }

  push(event: UpstreamEvent): string {
    if (this.finished) return "";
    const head = this.start();
    switch (event.type) {
      case "response.output_text.delta":
        return event.delta ? head + this.closeThink() + this.content(event.delta) : head;
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta":
        return head + this.reasoning(event.delta ?? "");
      case "response.reasoning_summary_part.added":
        // A paragraph break between summary parts.
        return (event.summary_index ?? 0) > 0 ? head + this.reasoning("\n\n") : head;
      case "response.output_item.added": {
        const item = event.item;
        if (!item || !FUNCTION_ITEM_TYPES.has(item.type) || !item.id) return head;
        const index = this.nextCallIndex++;
        const initial = item.type === "custom_tool_call" ? (item.input ?? "") : (item.arguments ?? "");
        this.calls.set(item.id, { index, argumentsSent: initial.length > 0 });
        return head + this.closeThink() + this.callHeader(item, index, initial);
      }
      case "response.function_call_arguments.delta":
      case "response.custom_tool_call_input.delta": {
        const call = event.item_id ? this.calls.get(event.item_id) : undefined;
        if (!call || !event.delta) return head;
        call.argumentsSent = true;
        return head + this.callArguments(call.index, event.delta);
      }
      case "response.function_call_arguments.done":
      case "response.custom_tool_call_input.done": {
        const call = event.item_id ? this.calls.get(event.item_id) : undefined;
        const args =
          typeof event.arguments === "string" ? event.arguments : typeof event.input === "string" ? event.input : "";
        if (!call || call.argumentsSent || !args) return head;
        call.argumentsSent = true;
        return head + this.callArguments(call.index, args);
      }
      case "response.output_item.done": {
        const item = event.item;
        if (item?.type === "message") {
          // Citations of a web search arrive with the finished message.
          const annotations = chatAnnotations(item);
          return annotations.length > 0 ? head + this.chunk(`{"annotations":${JSON.stringify(annotations)}}`) : head;
        }
        if (!item || !FUNCTION_ITEM_TYPES.has(item.type)) return head;
        const args = item.type === "custom_tool_call" ? (item.input ?? "") : (item.arguments ?? "");
        const known = item.id ? this.calls.get(item.id) : undefined;
        if (!known) {
          // The added event was missed: emit the whole call now.
          const index = this.nextCallIndex++;
          if (item.id) this.calls.set(item.id, { index, argumentsSent: true });
          return head + this.closeThink() + this.callHeader(item, index, args);
        }
        if (known.argumentsSent || !args) return head;
        known.argumentsSent = true;
        return head + this.callArguments(known.index, args);
      }
      case "response.completed":
        return head + this.finish(this.nextCallIndex > 0 ? this.callsReason() : "stop", event.response?.usage);
      case "response.incomplete":
        return (
          head +
          this.finish(this.nextCallIndex > 0 ? this.callsReason() : incompleteReason(event), event.response?.usage)
        );
      case "response.failed":
      case "error":
        return head + this.fail(inStreamFailure(event));
      default:
        return head;
    }
  }

  /**
   * Fast paths for the delta events, given the delta's raw JSON string
   * literal (see codex/json-fields.ts). Same output as `push` for them.
   */
  contentLiteral(literal: string): string {
    if (this.finished) return "";
    const head = this.start();
    return literal.length > 2 ? head + this.closeThink() + this.chunk(`{"content":${literal}}`) : head;
  }

  /** Chat has one reasoning stream, so the item id is not needed. */
  reasoningLiteral(_itemId: string, literal: string): string {
    if (this.finished) return "";
    const head = this.start();
    if (literal.length <= 2) return head;
    switch (this.options.reasoningOutput) {
      case "off":
        return head;
      case "think-tags": {
        const open = this.thinkOpen ? "" : "<think>";
        this.thinkOpen = true;
        return head + this.chunk(`{"content":"${open}${literal.slice(1)}}`);
      }
      default:
        return head + this.chunk(`{"reasoning_content":${literal}}`);
    }
  }

  argumentsLiteral(itemId: string, literal: string): string {
    if (this.finished) return "";
    const head = this.start();
    const call = this.calls.get(itemId);
    if (!call || literal.length <= 2) return head;
    call.argumentsSent = true;
    if (this.options.legacyFunctions)
      return call.index > 0 ? head : head + this.chunk(`{"function_call":{"arguments":${literal}}}`);
    return head + this.chunk(`{"tool_calls":[{"index":${call.index},"function":{"arguments":${literal}}}]}`);
  }

  /** Ends the stream with an OpenAI error object the SDKs raise, then [DONE]. */
  fail(error: ProxyError): string {
    if (this.finished) return "";
    this.finished = true;
    this.failed = error;
    return this.closeThink() + errorData(error);
  }

  /** The upstream closed: without a terminal event that is an error, never a normal finish. */
  end(): string {
    return this.finished ? "" : this.fail(prematureClose());
  }
}

interface AggregatedCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** Non-streaming: one chat.completion, built from `output_item.done` items (deltas as fallback). */
export function aggregateChatCompletion(
  events: Iterable<UpstreamEvent>,
  options: ChatResponseOptions,
): Record<string, unknown> {
  const { items, deltaText, deltaReasoning, terminal } = collectAnswer(events);
  let text = "";
  let reasoning = "";
  let sawMessage = false;
  const toolCalls: AggregatedCall[] = [];
  const annotations: ChatAnnotation[] = [];
  for (const item of items) {
    if (item.type === "message") {
      sawMessage = true;
      annotations.push(...chatAnnotations(item));
      for (const part of item.content ?? [])
        if (part.type === "output_text" && typeof part.text === "string") text += part.text;
    } else if (item.type === "reasoning") {
      const summary = (item.summary ?? [])
        .map((s) => s.text ?? "")
        .filter(Boolean)
        .join("\n\n");
      if (summary) reasoning += (reasoning ? "\n\n" : "") + summary;
    } else if (FUNCTION_ITEM_TYPES.has(item.type)) {
      toolCalls.push({
        id: item.call_id ?? item.id ?? `call_${toolCalls.length}`,
        type: "function",
        function: {
          name: restoreToolName(item.name ?? "", options.toolNames),
          arguments: (item.type === "custom_tool_call" ? item.input : item.arguments) ?? "",
        },
      });
    }
  }
  if (!sawMessage) text = deltaText;
  if (!reasoning) reasoning = deltaReasoning;

  const message: Record<string, unknown> = { role: "assistant", content: text || null };
  if (reasoning && options.reasoningOutput === "reasoning_content") message.reasoning_content = reasoning;
  if (reasoning && options.reasoningOutput === "think-tags") message.content = `<think>${reasoning}</think>${text}`;
  if (annotations.length > 0) message.annotations = annotations;
  if (toolCalls.length > 0 && options.legacyFunctions) message.function_call = toolCalls[0]!.function;
  else if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const finishReason: FinishReason =
    toolCalls.length > 0
      ? options.legacyFunctions
        ? "function_call"
        : "tool_calls"
      : terminal.type === "response.incomplete"
        ? incompleteReason(terminal)
        : "stop";
  return {
    id: options.id,
    object: "chat.completion",
    created: options.created,
    model: options.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
    usage: toChatUsage(terminal.response?.usage) ?? toChatUsage({}),
  };
}
