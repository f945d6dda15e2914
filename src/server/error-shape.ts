/**
 * Which API's error shape a path answers in: the Anthropic front
 * (`/v1/messages`, `/v1/messages/*`) uses `{"type":"error","error":{type,message}}`,
 * every other route the OpenAI shape. One choice, keyed on the path, so
 * that routes, guards and the app's 401/404/405 answers all agree.
 */
import { errorResponse, type ProxyError } from "../core/errors.js";
import { anthropicErrorResponse } from "../translate/anthropic/errors.js";

type ApiShape = "openai" | "anthropic";

function shapeFor(pathname: string): ApiShape {
  return pathname === "/v1/messages" || pathname.startsWith("/v1/messages/") ? "anthropic" : "openai";
}

/** The error response for a request to `pathname`, in that API's shape. */
export function errorResponseFor(pathname: string, error: ProxyError): Response {
  return shapeFor(pathname) === "anthropic" ? anthropicErrorResponse(error) : errorResponse(error);
}
