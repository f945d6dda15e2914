/**
 * Reads a JSON request body with a size limit, turning every way it can be
 * wrong into a 4xx that says what is wrong.
 */
import { ProxyError } from "./errors.js";

export function tooLarge(maxBytes: number): ProxyError {
  return new ProxyError(413, `Request body is larger than the limit of ${Math.round(maxBytes / 1024 / 1024)} MiB (set MAX_BODY_MB to change it).`, {
    code: "request_too_large",
  });
}

/** Reads a request body, refusing more than `maxBytes`; runtimes may supply a faster one (node-relay.ts). */
export type BodyReader = (request: Request, maxBytes: number) => Promise<Uint8Array>;

export async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Parses the body as a JSON object; arrays, scalars, bad UTF-8 and bad JSON are 400s. */
export async function readJsonObject(request: Request, maxBytes: number, readBody: BodyReader = readLimited): Promise<Record<string, unknown>> {
  const bytes = await readBody(request, maxBytes);
  if (bytes.byteLength === 0) throw new ProxyError(400, "Request body is empty; expected a JSON object.", { code: "invalid_json" });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ProxyError(400, "Request body is not valid UTF-8.", { code: "invalid_json" });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : "";
    throw new ProxyError(400, `Request body is not valid JSON${detail}`, { code: "invalid_json" });
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ProxyError(400, "Request body must be a JSON object.", { code: "invalid_json" });
  }
  return parsed as Record<string, unknown>;
}
