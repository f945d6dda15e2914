/**
 * Anthropic Messages request → Codex Responses request (docs/anthropic.md).
 * Pure. A wrong shape is a 400 whose message names the field; fields that only
 * mean something to Anthropic (cache_control, context_management,
 * defer_loading, betas, sampling knobs) are accepted and dropped.
 */
import { clampEffort, KNOWN_EFFORTS, nearestEffort, type CodexModel } from "../../codex/models.js";
import { invalidRequest } from "../../core/errors.js";
import { stableUuid } from "../hash.js";
import { shortenToolName, type ToolNameMap } from "../tool-names.js";
import { resolveAnthropicModel, type AnthropicModelContext } from "./models.js";
import { restoreReasoning } from "./signature.js";
import { isRecord, type Json } from "../json.js";

export interface AnthropicTranslationContext extends AnthropicModelContext {
  /** Claude Code's `x-claude-code-session-id` (and agent id), when sent. */
  sessionId?: string;
}

export interface TranslatedAnthropicRequest {
  body: Record<string, unknown>;
  /** The model name the client asked for: answers carry it back, as Anthropic's API does. */
  requestedModel: string;
  /** The catalogue model sent upstream. */
  model: string;
  stream: boolean;
  /** Whether thinking blocks go back to the client. */
  thinking: boolean;
  toolNames: ToolNameMap;
  promptCacheKey: string;
}

/** Claude Code's first system block is billing metadata for Anthropic, and it changes per conversation. */
const BILLING_HEADER = /^x-anthropic-billing-header:/;

function textBlocks(content: unknown, param: string): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalidRequest(`${param} must be a string or an array of text blocks.`, param);
  return content
    .map((block, i) => {
      const at = `${param}[${i}]`;
      if (!isRecord(block) || block.type !== "text" || typeof block.text !== "string")
        throw invalidRequest(`${at} must be a text block with a string "text".`, at);
      return block.text;
    })
    .filter((text) => !BILLING_HEADER.test(text))
    .join("\n\n");
}

function imagePart(block: Json, at: string): Json {
  const source = block.source;
  if (!isRecord(source)) throw invalidRequest(`${at}.source must be an object.`, `${at}.source`);
  if (source.type === "base64") {
    if (typeof source.media_type !== "string" || !/^image\//.test(source.media_type))
      throw invalidRequest(
        `${at}.source.media_type must be an image type such as image/png.`,
        `${at}.source.media_type`,
      );
    if (typeof source.data !== "string" || !source.data)
      throw invalidRequest(`${at}.source.data must be base64 image data.`, `${at}.source.data`);
    return { type: "input_image", image_url: `data:${source.media_type};base64,${source.data}` };
  }
  if (source.type === "url") {
    if (typeof source.url !== "string" || !/^https?:/i.test(source.url))
      throw invalidRequest(`${at}.source.url must be an http(s) URL.`, `${at}.source.url`);
    return { type: "input_image", image_url: source.url };
  }
  throw invalidRequest(
    `${at}.source.type must be "base64" or "url" (file ids are not supported).`,
    `${at}.source.type`,
  );
}

function documentPart(block: Json, at: string): Json {
  const source = isRecord(block.source) ? block.source : undefined;
  const filename = typeof block.title === "string" ? { filename: block.title } : { filename: "document.pdf" };
  if (source?.type === "text" && typeof source.data === "string") return { type: "input_text", text: source.data };
  if (source?.type === "base64" && typeof source.data === "string") {
    const mediaType = typeof source.media_type === "string" ? source.media_type : "application/pdf";
    return { type: "input_file", file_data: `data:${mediaType};base64,${source.data}`, ...filename };
  }
  if (source?.type === "url" && typeof source.url === "string") return { type: "input_file", file_url: source.url };
  throw invalidRequest(`${at}.source must be a base64, text or url document source.`, `${at}.source`);
}

/** A tool_result's content: a string, or text and image blocks (kept as a list when it holds an image). */
function toolResultOutput(block: Json, at: string): string | Json[] {
  const content = block.content;
  const error = block.is_error === true;
  if (content === undefined || content === null || typeof content === "string") {
    const text = typeof content === "string" ? content : "";
    return error ? `Error: ${text}` : text;
  }
  if (!Array.isArray(content))
    throw invalidRequest(`${at}.content must be a string or an array of blocks.`, `${at}.content`);
  const parts = content.map((part, i): Json => {
    const partAt = `${at}.content[${i}]`;
    if (!isRecord(part)) throw invalidRequest(`${partAt} must be an object.`, partAt);
    if (part.type === "text" && typeof part.text === "string") return { type: "input_text", text: part.text };
    if (part.type === "image") return imagePart(part, partAt);
    if (part.type === "document") return documentPart(part, partAt);
    throw invalidRequest(`${partAt}.type must be "text", "image" or "document".`, `${partAt}.type`);
  });
  if (error) parts.unshift({ type: "input_text", text: "Error:" });
  if (parts.every((p) => p.type === "input_text")) return parts.map((p) => p.text as string).join("\n");
  return parts;
}

interface Conversation {
  input: Json[];
  firstUserText: string;
}

function translateMessages(messages: unknown): Conversation {
  if (!Array.isArray(messages)) throw invalidRequest("messages must be an array of messages.", "messages");
  if (messages.length === 0) throw invalidRequest("messages must contain at least one message.", "messages");
  const input: Json[] = [];
  let firstUserText: string | undefined;
  /** tool_use ids of the previous assistant turn that still need a tool_result. */
  const pending = new Map<string, string>();
  const answered = new Set<string>();

  messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    if (!isRecord(message)) throw invalidRequest(`${at} must be an object.`, at);
    const role = message.role;
    if (role !== "user" && role !== "assistant" && role !== "system")
      throw invalidRequest(`${at}.role must be "user", "assistant" or "system".`, `${at}.role`);
    const content = message.content;
    if (content === undefined || content === null) throw invalidRequest(`${at}.content is required.`, `${at}.content`);
    if (role !== "user" && role !== "system" && pending.size > 0) missingResults(pending, i - 1);

    if (role === "system") {
      // Claude Code's per-turn instructions: a developer message at this point of the conversation.
      const text = textBlocks(content, `${at}.content`);
      if (text) input.push({ type: "message", role: "developer", content: [{ type: "input_text", text }] });
      return;
    }
    const blocks: unknown[] = typeof content === "string" ? [{ type: "text", text: content }] : (content as unknown[]);
    if (!Array.isArray(blocks))
      throw invalidRequest(`${at}.content must be a string or an array of blocks.`, `${at}.content`);

    if (role === "user") {
      let parts: Json[] = [];
      const flush = () => {
        if (parts.length === 0) return;
        if (firstUserText === undefined)
          firstUserText = parts.map((p) => (typeof p.text === "string" ? p.text : "")).join("");
        input.push({ type: "message", role: "user", content: parts });
        parts = [];
      };
      blocks.forEach((block, j) => {
        const blockAt = `${at}.content[${j}]`;
        if (!isRecord(block)) throw invalidRequest(`${blockAt} must be an object.`, blockAt);
        switch (block.type) {
          case "text":
            if (typeof block.text !== "string")
              throw invalidRequest(`${blockAt}.text must be a string.`, `${blockAt}.text`);
            if (block.text) parts.push({ type: "input_text", text: block.text });
            break;
          case "image":
            parts.push(imagePart(block, blockAt));
            break;
          case "document":
            parts.push(documentPart(block, blockAt));
            break;
          case "tool_result": {
            const id = block.tool_use_id;
            if (typeof id !== "string" || !id)
              throw invalidRequest(`${blockAt}.tool_use_id must be a non-empty string.`, `${blockAt}.tool_use_id`);
            if (!pending.has(id)) {
              throw invalidRequest(
                `${blockAt}: unexpected tool_use_id '${id}' in tool_result blocks: each tool_result block must have a corresponding tool_use block in the previous message.`,
                `${blockAt}.tool_use_id`,
              );
            }
            pending.delete(id);
            answered.add(id);
            flush();
            input.push({ type: "function_call_output", call_id: id, output: toolResultOutput(block, blockAt) });
            break;
          }
          default:
            // Search results, server-tool results and the like have no Codex equivalent.
            if (typeof block.type !== "string")
              throw invalidRequest(`${blockAt}.type must be a string.`, `${blockAt}.type`);
        }
      });
      flush();
      if (pending.size > 0) missingResults(pending, i - 1);
      return;
    }

    // assistant
    let text: Json[] = [];
    let reasoning: Json | undefined;
    const flushText = () => {
      if (text.length > 0) input.push({ type: "message", role: "assistant", content: text });
      text = [];
    };
    const flushReasoning = () => {
      // A reasoning item must be followed by what it produced; one left at the end is dropped.
      if (reasoning) input.push(reasoning);
      reasoning = undefined;
    };
    blocks.forEach((block, j) => {
      const blockAt = `${at}.content[${j}]`;
      if (!isRecord(block)) throw invalidRequest(`${blockAt} must be an object.`, blockAt);
      switch (block.type) {
        case "text":
          if (typeof block.text !== "string")
            throw invalidRequest(`${blockAt}.text must be a string.`, `${blockAt}.text`);
          if (!block.text) break;
          flushReasoning();
          text.push({ type: "output_text", text: block.text });
          break;
        case "thinking":
          flushText();
          reasoning = restoreReasoning(block) ?? reasoning;
          break;
        case "tool_use": {
          if (typeof block.id !== "string" || !block.id)
            throw invalidRequest(`${blockAt}.id must be a non-empty string.`, `${blockAt}.id`);
          if (typeof block.name !== "string" || !block.name)
            throw invalidRequest(`${blockAt}.name must be a non-empty string.`, `${blockAt}.name`);
          if (answered.has(block.id) || pending.has(block.id))
            throw invalidRequest(
              `${blockAt}.id '${block.id}' is used by more than one tool_use block.`,
              `${blockAt}.id`,
            );
          flushText();
          flushReasoning();
          const args = block.input === undefined ? {} : block.input;
          if (!isRecord(args)) throw invalidRequest(`${blockAt}.input must be an object.`, `${blockAt}.input`);
          input.push({
            type: "function_call",
            call_id: block.id,
            name: shortenToolName(block.name),
            arguments: JSON.stringify(args),
          });
          pending.set(block.id, blockAt);
          break;
        }
        default:
          // redacted_thinking (not ours to restore), server tool blocks: dropped.
          if (typeof block.type !== "string")
            throw invalidRequest(`${blockAt}.type must be a string.`, `${blockAt}.type`);
      }
    });
    flushText();
    reasoning = undefined;
    if (pending.size > 0 && i === messages.length - 1) missingResults(pending, i);
  });
  return { input, firstUserText: firstUserText ?? "" };
}

function missingResults(pending: Map<string, string>, assistantIndex: number): never {
  throw invalidRequest(
    `messages.${assistantIndex + 1}: tool_use ids were found without tool_result blocks immediately after: ${[...pending.keys()].join(", ")}. Each tool_use block must have a corresponding tool_result block in the next message.`,
    `messages[${assistantIndex + 1}].content`,
  );
}

function objectSchema(schema: unknown, param: string): Json {
  if (schema === undefined || schema === null) return { type: "object", properties: {} };
  if (!isRecord(schema)) throw invalidRequest(`${param} must be a JSON Schema object.`, param);
  // "$schema" is a dialect marker the backend does not need.
  const { $schema: _dialect, ...rest } = schema;
  if (rest.type === "object" && !isRecord(rest.properties)) return { ...rest, properties: {} };
  return rest;
}

function translateTools(tools: unknown, names: Map<string, string>): Json[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalidRequest("tools must be an array.", "tools");
  const out: Json[] = [];
  tools.forEach((tool, i) => {
    const at = `tools[${i}]`;
    if (!isRecord(tool)) throw invalidRequest(`${at} must be an object.`, at);
    // Anthropic server tools (web_search_…, bash_…, text_editor_…) run on Anthropic's side: not here.
    if (typeof tool.type === "string" && tool.type !== "custom") return;
    if (typeof tool.name !== "string" || !/^[A-Za-z0-9_.:-]{1,128}$/.test(tool.name))
      throw invalidRequest(`${at}.name must be 1-128 letters, digits, _ . : or -.`, `${at}.name`);
    const short = shortenToolName(tool.name);
    if (short !== tool.name) names.set(short, tool.name);
    const fn: Json = {
      type: "function",
      name: short,
      parameters: objectSchema(tool.input_schema, `${at}.input_schema`),
    };
    if (typeof tool.description === "string") fn.description = tool.description;
    fn.strict = false;
    out.push(fn);
  });
  return out;
}

interface ToolChoice {
  choice: unknown;
  parallel: boolean;
}

function translateToolChoice(raw: unknown, hasTools: boolean): ToolChoice {
  if (raw === undefined || raw === null) return { choice: "auto", parallel: true };
  if (!isRecord(raw) || typeof raw.type !== "string")
    throw invalidRequest('tool_choice must be an object such as {"type":"auto"}.', "tool_choice");
  const parallel = raw.disable_parallel_tool_use !== true;
  switch (raw.type) {
    case "auto":
      return { choice: "auto", parallel };
    case "none":
      return { choice: "none", parallel };
    case "any":
      if (!hasTools) throw invalidRequest('tool_choice "any" needs at least one tool in tools.', "tool_choice");
      return { choice: "required", parallel };
    case "tool":
      if (typeof raw.name !== "string" || !raw.name)
        throw invalidRequest('tool_choice.name is required with type "tool".', "tool_choice.name");
      if (!hasTools) throw invalidRequest(`tool_choice names '${raw.name}' but tools is empty.`, "tool_choice.name");
      return { choice: { type: "function", name: shortenToolName(raw.name) }, parallel };
    default:
      throw invalidRequest('tool_choice.type must be "auto", "any", "tool" or "none".', "tool_choice.type");
  }
}

/**
 * The effort to send: the shared rules first (`clampEffort`: supported efforts pass, `none`/`minimal`
 * become the lowest, `max` the highest); an effort those leave unmapped becomes the nearest one the
 * model has instead of a 400, since Anthropic clients pick efforts by name without a model's list.
 */
export function anthropicEffort(requested: string, model: CodexModel | undefined): string {
  const clamped = clampEffort(requested, model);
  if (clamped !== undefined || !model) return clamped ?? requested;
  return nearestEffort(requested, model);
}

/** A thinking budget in tokens → an effort (the backend has no budgets). */
export function effortForBudget(budget: number): string {
  if (budget <= 2_048) return "low";
  if (budget <= 8_192) return "medium";
  if (budget <= 24_576) return "high";
  return "xhigh";
}

interface Thinking {
  /** The effort the request asks for, if it asks. */
  effort?: string;
  enabled: boolean;
}

function readThinking(raw: Json): Thinking {
  const thinking = raw.thinking;
  let effort: string | undefined;
  let enabled = true;
  if (thinking !== undefined && thinking !== null) {
    if (!isRecord(thinking) || typeof thinking.type !== "string")
      throw invalidRequest('thinking must be an object such as {"type":"enabled","budget_tokens":2048}.', "thinking");
    if (thinking.type === "enabled") {
      if (typeof thinking.budget_tokens !== "number" || thinking.budget_tokens < 1)
        throw invalidRequest("thinking.budget_tokens must be a positive number.", "thinking.budget_tokens");
      effort = effortForBudget(thinking.budget_tokens);
    } else if (thinking.type === "disabled") {
      enabled = false;
      effort = "none";
    } else if (thinking.type !== "adaptive") {
      throw invalidRequest('thinking.type must be "enabled", "adaptive" or "disabled".', "thinking.type");
    }
  }
  const config = raw.output_config;
  if (config !== undefined && config !== null && !isRecord(config))
    throw invalidRequest("output_config must be an object.", "output_config");
  if (isRecord(config) && config.effort !== undefined && config.effort !== null) {
    if (typeof config.effort !== "string" || !(KNOWN_EFFORTS as readonly string[]).includes(config.effort))
      throw invalidRequest(
        'output_config.effort must be one of "low", "medium", "high", "xhigh", "max".',
        "output_config.effort",
      );
    if (enabled) effort = config.effort;
  }
  return { effort, enabled };
}

function sessionFromMetadata(metadata: unknown): string | undefined {
  if (!isRecord(metadata) || typeof metadata.user_id !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(metadata.user_id);
    return isRecord(parsed) && typeof parsed.session_id === "string" && parsed.session_id
      ? parsed.session_id
      : undefined;
  } catch {
    return undefined;
  }
}

export function toResponsesRequestFromAnthropic(
  raw: unknown,
  ctx: AnthropicTranslationContext,
): TranslatedAnthropicRequest {
  if (!isRecord(raw)) throw invalidRequest("Request body must be a JSON object.");
  if (typeof raw.model !== "string" || !raw.model.trim())
    throw invalidRequest("model: Field required (a model name such as claude-sonnet-4-5 or gpt-5.5).", "model");
  if (raw.stream !== undefined && raw.stream !== null && typeof raw.stream !== "boolean")
    throw invalidRequest("stream must be a boolean.", "stream");
  if (
    raw.max_tokens !== undefined &&
    (typeof raw.max_tokens !== "number" || !Number.isInteger(raw.max_tokens) || raw.max_tokens < 1)
  )
    throw invalidRequest("max_tokens must be a positive integer.", "max_tokens");

  const resolved = resolveAnthropicModel(raw.model, ctx);
  const toolNames = new Map<string, string>();
  const tools = translateTools(raw.tools, toolNames);
  const toolChoice = translateToolChoice(raw.tool_choice, tools.length > 0);
  const system = raw.system === undefined || raw.system === null ? "" : textBlocks(raw.system, "system");
  const conversation = translateMessages(raw.messages);

  const thinking = readThinking(raw);
  const requested = thinking.effort ?? resolved.effort;
  const effort = requested
    ? anthropicEffort(requested, resolved.model)
    : (resolved.model?.defaultEffort ?? resolved.model?.reasoningEfforts[0]);
  const summaries = thinking.enabled && resolved.model?.supportsReasoningSummaries !== false;

  const body: Json = {
    model: resolved.slug,
    instructions: system,
    input: conversation.input,
    store: false,
    stream: true,
    include: ["reasoning.encrypted_content"],
    reasoning: { ...(effort ? { effort } : {}), ...(summaries ? { summary: "auto" } : {}) },
  };
  if (tools.length > 0) {
    body.tools = tools;
    body.tool_choice = toolChoice.choice;
    body.parallel_tool_calls = toolChoice.parallel;
  }
  const promptCacheKey =
    ctx.sessionId ?? sessionFromMetadata(raw.metadata) ?? stableUuid(`${system}\u0000${conversation.firstUserText}`);
  body.prompt_cache_key = promptCacheKey;
  return {
    body,
    requestedModel: raw.model,
    model: resolved.slug,
    stream: raw.stream === true,
    thinking: thinking.enabled,
    toolNames,
    promptCacheKey,
  };
}
