/**
 * Normalises a client's `/v1/responses` request into one the Codex backend
 * accepts (docs/protocol.md §4.4, §6.5). Pure: the catalogue and default model are
 * passed in.
 */
import { clampEffort, resolveModel, type CodexModel } from "../codex/models.js";
import { invalidRequest } from "../core/errors.js";
import { unsupportedEffort } from "./effort-error.js";
import { serviceTier } from "./service-tier.js";
import { isRecord } from "./json.js";

export interface ResponsesTranslationContext {
  models: readonly CodexModel[];
  defaultModel: string;
}

export interface NormalisedResponsesRequest {
  body: Record<string, unknown>;
  model: string;
  /** What the client asked for; upstream is always streamed. */
  stream: boolean;
  sessionId?: string;
}

/** Parameters the backend rejects with a 400; dropped so that ordinary clients work. */
const STRIPPED_FIELDS = [
  "max_output_tokens",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "top_logprobs",
  "user",
  "truncation",
  "stream_options",
  "prompt_cache_retention",
  "prompt_cache_options",
  "safety_identifier",
  "metadata",
  "background",
  "n",
  "presence_penalty",
  "frequency_penalty",
  "seed",
  "logprobs",
  "conversation",
] as const;

function textPart(role: unknown, text: string): Record<string, unknown> {
  return { type: role === "assistant" ? "output_text" : "input_text", text };
}

/** Gives every input item an explicit type, turns `system` into `developer`, and string content into parts. */
function normaliseInputItem(item: unknown, index: number): Record<string, unknown> {
  if (!isRecord(item)) throw invalidRequest(`input[${index}] must be an object.`, `input[${index}]`);
  const hasRole = typeof item.role === "string";
  const type = typeof item.type === "string" ? item.type : hasRole ? "message" : undefined;
  if (!type)
    throw invalidRequest(`input[${index}] needs a "type" (or a "role" for a message).`, `input[${index}].type`);
  if (type !== "message") return item.type === type ? item : { ...item, type };

  const role = item.role === "system" ? "developer" : item.role;
  if (typeof role !== "string") throw invalidRequest(`input[${index}].role must be a string.`, `input[${index}].role`);
  let content = item.content;
  if (typeof content === "string") content = [textPart(role, content)];
  else if (!Array.isArray(content))
    throw invalidRequest(
      `input[${index}].content must be a string or an array of content parts.`,
      `input[${index}].content`,
    );
  if (role === item.role && content === item.content && item.type === "message") return item;
  return { ...item, type: "message", role, content };
}

function normaliseInput(input: unknown): unknown[] {
  if (input === undefined || input === null) return [];
  if (typeof input === "string")
    return [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }];
  if (!Array.isArray(input)) throw invalidRequest("input must be a string or an array of input items.", "input");
  let changed = false;
  const out = input.map((item, index) => {
    const normalised = normaliseInputItem(item, index);
    if (normalised !== item) changed = true;
    return normalised;
  });
  return changed ? out : input;
}

/** Chat-style `{type:"function", function:{…}}` tools are flattened; the backend only takes flat ones. */
function normaliseTools(tools: unknown): unknown[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalidRequest("tools must be an array.", "tools");
  return tools.map((tool, index) => {
    if (!isRecord(tool)) throw invalidRequest(`tools[${index}] must be an object.`, `tools[${index}]`);
    if (tool.type === "function" && isRecord(tool.function) && tool.name === undefined) {
      const fn = tool.function;
      if (typeof fn.name !== "string" || !fn.name)
        throw invalidRequest(
          `tools[${index}].function.name must be a non-empty string.`,
          `tools[${index}].function.name`,
        );
      return {
        type: "function",
        name: fn.name,
        description: fn.description,
        parameters: fn.parameters ?? { type: "object", properties: {} },
        strict: fn.strict ?? false,
      };
    }
    if (tool.type === "function" && (typeof tool.name !== "string" || !tool.name)) {
      throw invalidRequest(`tools[${index}].name must be a non-empty string.`, `tools[${index}].name`);
    }
    return tool;
  });
}

function instructionsOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  // Some clients send instructions as input items; flatten their text.
  if (Array.isArray(value)) {
    return value
      .map((item) =>
        isRecord(item) && typeof item.content === "string"
          ? item.content
          : isRecord(item) && typeof item.text === "string"
            ? item.text
            : "",
      )
      .filter(Boolean)
      .join("\n\n");
  }
  throw invalidRequest("instructions must be a string.", "instructions");
}

export function normaliseResponsesRequest(
  raw: Record<string, unknown>,
  ctx: ResponsesTranslationContext,
): NormalisedResponsesRequest {
  if (raw.model !== undefined && raw.model !== null && typeof raw.model !== "string")
    throw invalidRequest("model must be a string.", "model");
  if (raw.stream !== undefined && raw.stream !== null && typeof raw.stream !== "boolean")
    throw invalidRequest("stream must be a boolean.", "stream");
  if (typeof raw.previous_response_id === "string" && raw.previous_response_id) {
    throw invalidRequest(
      "previous_response_id is not supported: the Codex backend does not store responses (store=false). " +
        "Send the whole conversation in input instead.",
      "previous_response_id",
    );
  }
  if (raw.reasoning !== undefined && raw.reasoning !== null && !isRecord(raw.reasoning))
    throw invalidRequest("reasoning must be an object.", "reasoning");
  if (raw.text !== undefined && raw.text !== null && !isRecord(raw.text))
    throw invalidRequest("text must be an object.", "text");

  const resolved = resolveModel(typeof raw.model === "string" ? raw.model : undefined, ctx.models, ctx.defaultModel);
  const body: Record<string, unknown> = { ...raw };
  for (const field of STRIPPED_FIELDS) delete body[field];
  delete body.previous_response_id;

  body.model = resolved.slug;
  body.instructions = instructionsOf(raw.instructions);
  body.input = normaliseInput(raw.input);
  body.stream = true;
  body.store = false;

  const tools = normaliseTools(raw.tools);
  if (tools) body.tools = tools;
  const tier = serviceTier(raw.service_tier);
  if (tier) body.service_tier = tier;
  else delete body.service_tier;
  if (raw.text === null) delete body.text;

  let reasoning = isRecord(raw.reasoning) ? { ...raw.reasoning } : undefined;
  // An explicit effort beats a model-name suffix.
  if (resolved.effort && !reasoning?.effort) reasoning = { ...reasoning, effort: resolved.effort };
  if (reasoning && reasoning.effort !== undefined && reasoning.effort !== null) {
    const param = isRecord(raw.reasoning) && raw.reasoning.effort != null ? "reasoning.effort" : "model";
    if (typeof reasoning.effort !== "string") throw invalidRequest(`${param} must be a string.`, param);
    const effort = clampEffort(reasoning.effort, resolved.model);
    if (effort === undefined) throw unsupportedEffort(reasoning.effort, resolved.model, param);
    reasoning.effort = effort;
  } else if (reasoning && reasoning.effort === null) {
    delete reasoning.effort;
  }
  if (reasoning) {
    body.reasoning = reasoning;
    const include = Array.isArray(raw.include) ? (raw.include as unknown[]) : [];
    if (!include.includes("reasoning.encrypted_content")) body.include = [...include, "reasoning.encrypted_content"];
  } else if (raw.reasoning === null) {
    delete body.reasoning;
  }

  const sessionId = typeof raw.prompt_cache_key === "string" && raw.prompt_cache_key ? raw.prompt_cache_key : undefined;
  return { body, model: resolved.slug, stream: raw.stream === true, sessionId };
}
