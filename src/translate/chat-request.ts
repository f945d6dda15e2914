/**
 * Chat Completions request → Codex Responses request (docs/protocol.md §6.1, §6.2,
 * §10). Pure. Validation follows the OpenAI API: a wrong shape is a 400 that
 * names the field.
 */
import { clampEffort, resolveModel, type CodexModel } from "../codex/models.js";
import { invalidRequest } from "../core/errors.js";
import { unsupportedEffort } from "./effort-error.js";
import { serviceTier } from "./service-tier.js";
import { webSearchTool } from "./web-search.js";
import { stableUuid } from "./hash.js";
import { shortenToolName, type ToolNameMap } from "./tool-names.js";
import { isRecord, type Json } from "./json.js";

export interface ChatTranslationContext {
  models: readonly CodexModel[];
  defaultModel: string;
}

export interface TranslatedChatRequest {
  body: Record<string, unknown>;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  toolNames: ToolNameMap;
  promptCacheKey: string;
  /** Legacy `functions` without `tools`: the answer uses `function_call` (chat-response.ts). */
  legacyFunctions: boolean;
}

const ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);
const IMAGE_DETAIL = new Set(["auto", "low", "high"]);

/** Text of a string or an array of text parts (system, developer, tool, assistant content). */
function textContent(content: unknown, param: string, allowNull = false): string {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) {
    if (allowNull) return "";
    throw invalidRequest(`${param} is required.`, param);
  }
  if (!Array.isArray(content)) throw invalidRequest(`${param} must be a string or an array of content parts.`, param);
  return content
    .map((part, i) => {
      if (!isRecord(part)) throw invalidRequest(`${param}[${i}] must be an object.`, `${param}[${i}]`);
      if (
        (part.type === "text" || part.type === "input_text" || part.type === "output_text") &&
        typeof part.text === "string"
      )
        return part.text;
      if (part.type === "refusal" && typeof part.refusal === "string") return part.refusal;
      throw invalidRequest(`${param}[${i}] must be a text part with a string "text".`, `${param}[${i}]`);
    })
    .join("");
}

function userContent(content: unknown, param: string): Json[] {
  if (typeof content === "string") return [{ type: "input_text", text: content }];
  if (content === null || content === undefined) throw invalidRequest(`${param} is required for user messages.`, param);
  if (!Array.isArray(content)) throw invalidRequest(`${param} must be a string or an array of content parts.`, param);
  if (content.length === 0) throw invalidRequest(`${param} must not be empty.`, param);
  return content.map((part, i): Json => {
    const at = `${param}[${i}]`;
    if (!isRecord(part)) throw invalidRequest(`${at} must be an object.`, at);
    switch (part.type) {
      case "text":
        if (typeof part.text !== "string") throw invalidRequest(`${at}.text must be a string.`, `${at}.text`);
        return { type: "input_text", text: part.text };
      case "image_url": {
        const image = part.image_url;
        const url = typeof image === "string" ? image : isRecord(image) ? image.url : undefined;
        if (typeof url !== "string" || !url)
          throw invalidRequest(`${at}.image_url.url must be a string (an https or data: URL).`, `${at}.image_url.url`);
        if (!/^(https?:|data:image\/)/i.test(url))
          throw invalidRequest(
            `${at}.image_url.url must be an http(s) URL or a data:image/… URL.`,
            `${at}.image_url.url`,
          );
        const detail =
          isRecord(image) && typeof image.detail === "string" && IMAGE_DETAIL.has(image.detail)
            ? image.detail
            : undefined;
        return detail ? { type: "input_image", image_url: url, detail } : { type: "input_image", image_url: url };
      }
      case "file": {
        const file = isRecord(part.file) ? part.file : {};
        if (typeof file.file_data !== "string")
          throw invalidRequest(
            `${at}.file.file_data must be a string (file ids are not supported).`,
            `${at}.file.file_data`,
          );
        return {
          type: "input_file",
          file_data: file.file_data,
          ...(typeof file.filename === "string" ? { filename: file.filename } : {}),
        };
      }
      case "input_audio":
        throw invalidRequest(`${at}: audio input is not supported by the Codex backend.`, `${at}.type`);
      default:
        throw invalidRequest(`${at}.type must be "text", "image_url" or "file".`, `${at}.type`);
    }
  });
}

interface ToolCallIn {
  id: string;
  name: string;
  arguments: string;
}

function assistantToolCalls(value: unknown, param: string): ToolCallIn[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidRequest(`${param} must be an array.`, param);
  return value.map((call, i) => {
    const at = `${param}[${i}]`;
    if (!isRecord(call)) throw invalidRequest(`${at} must be an object.`, at);
    if (typeof call.id !== "string" || !call.id)
      throw invalidRequest(`${at}.id must be a non-empty string.`, `${at}.id`);
    const fn = call.function;
    if (!isRecord(fn) || typeof fn.name !== "string" || !fn.name)
      throw invalidRequest(`${at}.function.name must be a non-empty string.`, `${at}.function.name`);
    const args =
      fn.arguments === undefined || fn.arguments === null
        ? "{}"
        : typeof fn.arguments === "string"
          ? fn.arguments
          : JSON.stringify(fn.arguments);
    return { id: call.id, name: fn.name, arguments: args };
  });
}

interface Conversation {
  instructions: string;
  input: Json[];
  firstUserText: string;
}

function translateMessages(messages: unknown, nameFor: (name: string) => string): Conversation {
  if (!Array.isArray(messages)) throw invalidRequest("messages must be an array of message objects.", "messages");
  if (messages.length === 0) throw invalidRequest("messages must contain at least one message.", "messages");
  const instructions: string[] = [];
  const input: Json[] = [];
  const pendingCalls = new Map<string, string>(); // call id → param of the assistant message that made it
  let firstUserText: string | undefined;

  messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    if (!isRecord(message)) throw invalidRequest(`${at} must be an object.`, at);
    const role = message.role;
    if (typeof role !== "string" || !ROLES.has(role)) {
      throw invalidRequest(`${at}.role must be one of system, developer, user, assistant, tool.`, `${at}.role`);
    }
    if (role !== "tool" && role !== "function" && pendingCalls.size > 0) {
      const [callId] = pendingCalls.keys();
      throw invalidRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. Missing: ${callId}.`,
        `${pendingCalls.get(callId!)}`,
      );
    }
    switch (role) {
      case "system":
      case "developer": {
        const text = textContent(message.content, `${at}.content`);
        if (text) instructions.push(text);
        break;
      }
      case "user": {
        const content = userContent(message.content, `${at}.content`);
        if (firstUserText === undefined)
          firstUserText = content.map((p) => (typeof p.text === "string" ? p.text : "")).join("");
        input.push({ type: "message", role: "user", content });
        break;
      }
      case "assistant": {
        const calls = assistantToolCalls(message.tool_calls, `${at}.tool_calls`);
        // Legacy `function_call` on an assistant message: one call, answered by a `function` message.
        const legacy = message.function_call;
        if (isRecord(legacy) && typeof legacy.name === "string" && legacy.name) {
          const args = typeof legacy.arguments === "string" ? legacy.arguments : JSON.stringify(legacy.arguments ?? {});
          calls.push({ id: `call_${legacy.name}_${i}`, name: legacy.name, arguments: args });
        }
        const text = textContent(message.content, `${at}.content`, true);
        if (!text && calls.length === 0 && message.content === undefined)
          throw invalidRequest(`${at} needs content or tool_calls.`, `${at}.content`);
        // An assistant message that only carries tool calls is omitted (docs/protocol.md §6.2).
        if (text) input.push({ type: "message", role: "assistant", content: [{ type: "output_text", text }] });
        for (const call of calls) {
          input.push({ type: "function_call", call_id: call.id, name: nameFor(call.name), arguments: call.arguments });
          pendingCalls.set(call.id, `${at}.tool_calls`);
        }
        break;
      }
      case "tool": {
        if (typeof message.tool_call_id !== "string" || !message.tool_call_id)
          throw invalidRequest(`${at}.tool_call_id is required for tool messages.`, `${at}.tool_call_id`);
        if (!pendingCalls.has(message.tool_call_id)) {
          throw invalidRequest(
            `${at}.tool_call_id '${message.tool_call_id}' does not answer any tool call of the preceding assistant message.`,
            `${at}.tool_call_id`,
          );
        }
        pendingCalls.delete(message.tool_call_id);
        input.push({
          type: "function_call_output",
          call_id: message.tool_call_id,
          output: textContent(message.content, `${at}.content`, true),
        });
        break;
      }
      case "function": {
        // Legacy function role: answers the most recent pending call of that name, if any.
        const name = typeof message.name === "string" ? message.name : "";
        const match = [...pendingCalls.keys()].find((id) =>
          input.some((item) => item.call_id === id && item.name === nameFor(name)),
        );
        const callId = match ?? `call_${name}`;
        if (match) pendingCalls.delete(match);
        else input.push({ type: "function_call", call_id: callId, name: nameFor(name || "function"), arguments: "{}" });
        input.push({
          type: "function_call_output",
          call_id: callId,
          output: textContent(message.content, `${at}.content`, true),
        });
        break;
      }
    }
  });
  if (pendingCalls.size > 0) {
    const [callId] = pendingCalls.keys();
    throw invalidRequest(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. Missing: ${callId}.`,
      pendingCalls.get(callId!)!,
    );
  }
  return { instructions: instructions.join("\n\n"), input, firstUserText: firstUserText ?? "" };
}

function objectSchema(parameters: unknown, param: string): Json {
  if (parameters === undefined || parameters === null) return { type: "object", properties: {} };
  if (!isRecord(parameters)) throw invalidRequest(`${param} must be a JSON Schema object.`, param);
  if (parameters.type === "object" && !isRecord(parameters.properties)) return { ...parameters, properties: {} };
  return parameters;
}

function translateTools(raw: Json, names: Map<string, string>): Json[] | undefined {
  const list: unknown[] = [];
  if (raw.tools !== undefined && raw.tools !== null) {
    if (!Array.isArray(raw.tools)) throw invalidRequest("tools must be an array.", "tools");
    list.push(...raw.tools);
  }
  if (Array.isArray(raw.functions)) list.push(...raw.functions.map((fn) => ({ type: "function", function: fn })));
  if (list.length === 0) return undefined;
  return list.map((tool, i) => {
    const at = `tools[${i}]`;
    if (!isRecord(tool)) throw invalidRequest(`${at} must be an object.`, at);
    if (tool.type !== "function") throw invalidRequest(`${at}.type must be "function".`, `${at}.type`);
    const fn = tool.function;
    if (!isRecord(fn)) throw invalidRequest(`${at}.function must be an object.`, `${at}.function`);
    if (typeof fn.name !== "string" || !/^[A-Za-z0-9_.:-]+$/.test(fn.name)) {
      throw invalidRequest(
        `${at}.function.name must be a non-empty string of letters, digits, _ . : or -.`,
        `${at}.function.name`,
      );
    }
    const short = shortenToolName(fn.name);
    if (short !== fn.name) names.set(short, fn.name);
    const out: Json = {
      type: "function",
      name: short,
      parameters: objectSchema(fn.parameters, `${at}.function.parameters`),
    };
    if (typeof fn.description === "string") out.description = fn.description;
    out.strict = fn.strict === true;
    return out;
  });
}

function translateToolChoice(choice: unknown, hasTools: boolean): unknown {
  if (choice === undefined || choice === null) return hasTools ? "auto" : undefined;
  if (choice === "auto" || choice === "none" || choice === "required") return choice;
  if (
    isRecord(choice) &&
    choice.type === "function" &&
    isRecord(choice.function) &&
    typeof choice.function.name === "string"
  ) {
    return { type: "function", name: shortenToolName(choice.function.name) };
  }
  throw invalidRequest(
    'tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":…}}.',
    "tool_choice",
  );
}

/** Legacy `function_call`: "auto", "none", or `{name}` forcing that function. */
function translateLegacyFunctionCall(choice: unknown): unknown {
  if (choice === undefined || choice === null || choice === "auto") return "auto";
  if (choice === "none") return "none";
  if (isRecord(choice) && typeof choice.name === "string" && choice.name)
    return { type: "function", name: shortenToolName(choice.name) };
  throw invalidRequest('function_call must be "auto", "none" or {"name": …}.', "function_call");
}

/** Strict JSON schemas need additionalProperties:false on every object (a copy; the client's object is untouched). */
function strictSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictSchema);
  if (!isRecord(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) out[key] = strictSchema(value);
  if (out.type === "object" && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function translateResponseFormat(format: unknown): Json | undefined {
  if (format === undefined || format === null) return undefined;
  if (!isRecord(format) || typeof format.type !== "string")
    throw invalidRequest("response_format must be an object with a type.", "response_format");
  if (format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  if (format.type === "json_schema") {
    const spec = format.json_schema;
    if (!isRecord(spec) || !isRecord(spec.schema))
      throw invalidRequest(
        "response_format.json_schema.schema must be a JSON Schema object.",
        "response_format.json_schema.schema",
      );
    const strict = spec.strict === true;
    const name = typeof spec.name === "string" && spec.name ? spec.name : "response";
    return {
      type: "json_schema",
      name,
      schema: strict ? strictSchema(spec.schema) : spec.schema,
      strict,
      ...(typeof spec.description === "string" ? { description: spec.description } : {}),
    };
  }
  throw invalidRequest('response_format.type must be "text", "json_object" or "json_schema".', "response_format.type");
}

function chooseEffort(requested: string | undefined, model: CodexModel | undefined, param: string): string | undefined {
  if (requested === undefined) return model?.defaultEffort ?? "medium";
  const effort = clampEffort(requested, model);
  if (effort !== undefined) return effort;
  throw unsupportedEffort(requested, model, param);
}

export function toResponsesRequest(raw: unknown, ctx: ChatTranslationContext): TranslatedChatRequest {
  if (!isRecord(raw)) throw invalidRequest("Request body must be a JSON object.");
  if (raw.model !== undefined && raw.model !== null && typeof raw.model !== "string")
    throw invalidRequest("model must be a string.", "model");
  if (raw.stream !== undefined && raw.stream !== null && typeof raw.stream !== "boolean")
    throw invalidRequest("stream must be a boolean.", "stream");
  if (raw.n !== undefined && raw.n !== null) {
    if (typeof raw.n !== "number" || !Number.isInteger(raw.n) || raw.n < 1)
      throw invalidRequest("n must be a positive integer.", "n");
    if (raw.n > 1)
      throw invalidRequest("n > 1 is not supported: the Codex backend returns one choice per request.", "n");
  }
  if (raw.reasoning_effort !== undefined && raw.reasoning_effort !== null && typeof raw.reasoning_effort !== "string") {
    throw invalidRequest("reasoning_effort must be a string.", "reasoning_effort");
  }
  if (raw.stream_options !== undefined && raw.stream_options !== null && !isRecord(raw.stream_options)) {
    throw invalidRequest("stream_options must be an object.", "stream_options");
  }

  const resolved = resolveModel(typeof raw.model === "string" ? raw.model : undefined, ctx.models, ctx.defaultModel);
  const toolNames = new Map<string, string>();
  const functionTools = translateTools(raw, toolNames);
  const search = webSearchTool(raw.web_search_options);
  const tools = search ? [...(functionTools ?? []), search] : functionTools;
  const conversation = translateMessages(raw.messages, shortenToolName);

  const reasoningObject = isRecord(raw.reasoning) ? raw.reasoning : undefined;
  const requestedEffort =
    typeof raw.reasoning_effort === "string"
      ? raw.reasoning_effort
      : typeof reasoningObject?.effort === "string"
        ? reasoningObject.effort
        : resolved.effort;
  const effortParam =
    typeof raw.reasoning_effort === "string" ? "reasoning_effort" : reasoningObject ? "reasoning.effort" : "model";
  const effort = chooseEffort(requestedEffort, resolved.model, effortParam);

  const body: Json = {
    model: resolved.slug,
    instructions: conversation.instructions,
    input: conversation.input,
    store: false,
    stream: true,
    include: ["reasoning.encrypted_content"],
    reasoning: { ...(effort ? { effort } : {}), summary: "auto" },
  };
  const legacyFunctions = Array.isArray(raw.functions) && raw.functions.length > 0 && !Array.isArray(raw.tools);
  if (tools) {
    body.tools = tools;
    body.tool_choice = legacyFunctions
      ? translateLegacyFunctionCall(raw.function_call)
      : translateToolChoice(raw.tool_choice, true);
    // The legacy answer carries one call.
    body.parallel_tool_calls = legacyFunctions ? false : raw.parallel_tool_calls !== false;
  } else if (
    raw.tool_choice !== undefined &&
    raw.tool_choice !== null &&
    raw.tool_choice !== "none" &&
    raw.tool_choice !== "auto"
  ) {
    throw invalidRequest("tool_choice was given but tools is empty.", "tool_choice");
  }
  const tier = serviceTier(raw.service_tier);
  if (tier) body.service_tier = tier;

  const text: Json = {};
  const format = translateResponseFormat(raw.response_format);
  if (format) text.format = format;
  const verbosity = typeof raw.verbosity === "string" ? raw.verbosity : undefined;
  if (verbosity && resolved.model?.supportsVerbosity !== false) text.verbosity = verbosity;
  if (Object.keys(text).length > 0) body.text = text;

  const promptCacheKey =
    typeof raw.prompt_cache_key === "string" && raw.prompt_cache_key
      ? raw.prompt_cache_key
      : stableUuid(`${conversation.instructions}\u0000${conversation.firstUserText}`);
  body.prompt_cache_key = promptCacheKey;

  const includeUsage = isRecord(raw.stream_options) && raw.stream_options.include_usage === true;
  return {
    body,
    model: resolved.slug,
    stream: raw.stream === true,
    includeUsage,
    toolNames,
    promptCacheKey,
    legacyFunctions,
  };
}
