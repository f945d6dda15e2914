/**
 * GET /v1/responses: recent Codex clients first try the Responses WebSocket
 * there (docs/protocol.md §11). The proxy speaks HTTP only, so it refuses the
 * upgrade at once with 426, the answer on which the Codex CLI falls back to
 * HTTP without retrying the WebSocket (measured in test/e2e/codex-cli.test.ts).
 */
import { errorResponse, ProxyError } from "../../core/errors.js";

export function refuseWebSocket(): Response {
  return errorResponse(
    new ProxyError(
      426,
      "This proxy serves the Responses API over HTTP only: POST /v1/responses. The WebSocket transport is not supported.",
      { code: "websocket_not_supported" },
    ),
  );
}
