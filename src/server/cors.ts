/**
 * CORS, off unless CORS_ORIGINS lists origins: a browser page must not be able
 * to use the proxy just because the user has it running.
 */
import type { H3Event } from "h3";

const ALLOWED_HEADERS = [
  "authorization",
  "content-type",
  "x-api-key",
  // The pool's pin (X-Codex-Account).
  "x-codex-account",
  "openai-beta",
  "x-stainless-os",
  "x-stainless-lang",
  "x-stainless-package-version",
  "x-stainless-runtime",
  "x-stainless-runtime-version",
  "x-stainless-arch",
  "x-stainless-retry-count",
  "x-stainless-timeout",
].join(", ");

function allowedOrigin(origin: string | null, allowed: readonly string[]): string | undefined {
  if (!origin) return undefined;
  if (allowed.includes("*")) return "*";
  return allowed.includes(origin) ? origin : undefined;
}

/** h3 middleware: answers preflights and adds the headers to allowed origins' responses. */
export function corsMiddleware(allowed: readonly string[]) {
  return async (event: H3Event, next: () => unknown): Promise<unknown> => {
    const origin = allowedOrigin(event.req.headers.get("origin"), allowed);
    if (!origin) return next();
    const headers: Record<string, string> = { "access-control-allow-origin": origin, vary: "origin" };
    if (event.req.method === "OPTIONS" && event.req.headers.has("access-control-request-method")) {
      return new Response(null, {
        status: 204,
        headers: {
          ...headers,
          "access-control-allow-methods": "GET, POST, OPTIONS",
          "access-control-allow-headers": ALLOWED_HEADERS,
          "access-control-max-age": "600",
        },
      });
    }
    const response = await next();
    if (response instanceof Response) {
      for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    }
    return response;
  };
}
