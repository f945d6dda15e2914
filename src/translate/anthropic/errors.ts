/**
 * Proxy errors in the Anthropic shape, `{"type":"error","error":{type,message}}`,
 * with the statuses the Anthropic SDKs map to their error classes: 400
 * invalid_request_error, 401 authentication_error, 403 permission_error,
 * 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 529
 * overloaded_error (the backend says it is overloaded), other 5xx api_error.
 * Pure.
 */
import type { ProxyError } from "../../core/errors.js";

interface AnthropicErrorBody {
  type: "error";
  error: { type: string; message: string };
}

export interface AnthropicError {
  status: number;
  body: AnthropicErrorBody;
  headers: Record<string, string>;
}

const OVERLOADED = /overload|slow_down|server_busy/i;

/** Claude Code recognises a context overflow by this phrase and offers /compact. */
const CONTEXT_PHRASE = "prompt is too long";

function typeFor(status: number): string {
  switch (status) {
    case 400:
    case 405:
    case 415:
    case 422:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

export function toAnthropicError(error: ProxyError): AnthropicError {
  let status = error.status;
  let message = error.message;
  // Only a backend that says it is overloaded is 529; an unreachable backend or a missing setting stays a 5xx api_error.
  if (status >= 500 && (OVERLOADED.test(error.code ?? "") || OVERLOADED.test(message))) status = 529;
  if (error.code === "context_length_exceeded" && !message.toLowerCase().includes(CONTEXT_PHRASE))
    message = `${CONTEXT_PHRASE}: ${message}`;
  // A 400 from our own validation names the field, as the Anthropic API does.
  if (status === 400 && error.param && !message.includes(error.param)) message = `${error.param}: ${message}`;
  return { status, body: { type: "error", error: { type: typeFor(status), message } }, headers: error.headers };
}

export function anthropicErrorResponse(error: ProxyError): Response {
  const { status, body, headers } = toAnthropicError(error);
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The SSE frame for a failure after the stream began: the SDKs raise it, and it is never a normal end. */
export function anthropicErrorEvent(error: ProxyError): string {
  return `event: error\ndata: ${JSON.stringify(toAnthropicError(error).body)}\n\n`;
}
