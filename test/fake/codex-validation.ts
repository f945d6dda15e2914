/**
 * The request checks of the real Codex backend (docs/protocol.md §4.4), each a 400
 * with the body shape the backend uses. Returns undefined when the request is fine.
 */

export interface Rejection {
  status: number;
  body: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const detail = (message: string): Rejection => ({ status: 400, body: { detail: message } });
const openaiError = (message: string, param: string, code: string): Rejection => ({
  status: 400,
  body: { error: { message, type: "invalid_request_error", param, code } },
});

/**
 * The top-level fields the real backend accepts on POST /responses (docs/protocol.md §4.3: what the
 * official CLI sends); any other field is answered like the backend answers an unsupported one
 * (docs/protocol.md §4.4). A new field the backend takes goes here; a new route gets a set of its own,
 * checked with `checkFields`.
 */
export const RESPONSES_FIELDS: ReadonlySet<string> = new Set([
  "model",
  "instructions",
  "input",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "reasoning",
  "store",
  "stream",
  "include",
  "prompt_cache_key",
  "text",
  "client_metadata",
  "service_tier",
]);

/** The first field of `body` that `allowed` does not list, as the backend's 400. */
export function checkFields(body: Json, allowed: ReadonlySet<string>): Rejection | undefined {
  for (const field of Object.keys(body)) if (!allowed.has(field)) return detail(`Unsupported parameter: ${field}`);
  return undefined;
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface CatalogueModel {
  slug: string;
  efforts: string[];
  textOnly: boolean;
}

function checkTools(tools: unknown): Rejection | undefined {
  if (tools === undefined) return undefined;
  if (!Array.isArray(tools))
    return openaiError("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
  for (const [i, tool] of tools.entries()) {
    if (!isRecord(tool)) return openaiError(`Invalid type for 'tools[${i}]'.`, `tools[${i}]`, "invalid_type");
    if (tool.type !== "function") continue;
    if (typeof tool.name !== "string")
      return openaiError(
        `Missing required parameter: 'tools[${i}].name'.`,
        `tools[${i}].name`,
        "missing_required_parameter",
      );
    if (tool.name.length > 64)
      return openaiError(`Invalid 'tools[${i}].name': string too long.`, `tools[${i}].name`, "invalid_value");
  }
  return undefined;
}

function checkInput(input: unknown[], model: CatalogueModel | undefined): Rejection | undefined {
  const outputs = new Set<string>();
  const calls = new Set<string>();
  for (const [i, item] of input.entries()) {
    if (!isRecord(item)) return openaiError(`Invalid 'input[${i}]'.`, `input[${i}]`, "invalid_type");
    if (item.role === "system") return detail("System messages are not allowed");
    if (item.type === "function_call_output") {
      if (typeof item.call_id !== "string" || !calls.has(item.call_id)) {
        return openaiError(
          `No tool call found for function call output with call_id ${String(item.call_id)}.`,
          `input[${i}]`,
          "invalid_value",
        );
      }
      outputs.add(item.call_id);
    }
    if (item.type === "function_call" && typeof item.call_id === "string") calls.add(item.call_id);
    if (
      Array.isArray(item.content) &&
      model?.textOnly &&
      item.content.some((part) => isRecord(part) && part.type === "input_image")
    ) {
      return openaiError(
        `The model '${model.slug}' does not support image inputs.`,
        `input[${i}].content`,
        "invalid_value",
      );
    }
  }
  for (const callId of calls)
    if (!outputs.has(callId))
      return openaiError(`No tool output found for function call ${callId}.`, "input", "invalid_value");
  return undefined;
}

export function validateResponsesRequest(body: unknown, models: Map<string, CatalogueModel>): Rejection | undefined {
  if (!isRecord(body)) return detail("Invalid JSON body");
  if (body.stream !== true) return detail("Stream must be set to true");
  if (body.store !== false) return detail("Store must be set to false");
  if (typeof body.instructions !== "string") return detail("Instructions are required");
  if (!Array.isArray(body.input)) return detail("Input must be a list");
  const unknownField = checkFields(body, RESPONSES_FIELDS);
  if (unknownField) return unknownField;
  const model = typeof body.model === "string" ? models.get(body.model) : undefined;
  if (!model)
    return detail(`The '${String(body.model)}' model is not supported when using Codex with a ChatGPT account.`);
  const toolProblem = checkTools(body.tools);
  if (toolProblem) return toolProblem;
  const inputProblem = checkInput(body.input, model);
  if (inputProblem) return inputProblem;
  if (isRecord(body.reasoning)) {
    const { effort, summary } = body.reasoning;
    if (effort !== undefined && !model.efforts.includes(String(effort))) {
      return openaiError(
        `Unsupported value: '${String(effort)}' is not supported with the '${model.slug}' model.`,
        "reasoning.effort",
        "unsupported_value",
      );
    }
    if (summary !== undefined && summary !== null && !["auto", "concise", "detailed"].includes(String(summary))) {
      return openaiError(
        `Invalid value: '${String(summary)}'. Supported values are: 'auto', 'concise', and 'detailed'.`,
        "reasoning.summary",
        "invalid_value",
      );
    }
  }
  if (
    isRecord(body.text) &&
    body.text.verbosity !== undefined &&
    !["low", "medium", "high"].includes(String(body.text.verbosity))
  ) {
    return openaiError(`Unsupported value: '${String(body.text.verbosity)}'.`, "text.verbosity", "unsupported_value");
  }
  if (body.service_tier !== undefined && body.service_tier !== "priority") {
    return openaiError(`Unsupported value: '${String(body.service_tier)}'.`, "service_tier", "unsupported_value");
  }
  return undefined;
}
