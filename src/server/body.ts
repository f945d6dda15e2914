/**
 * Reads a JSON request body with a size limit, turning every way it can be
 * wrong into a 4xx that says what is wrong.
 */
import { ProxyError } from "../core/errors.js";

function tooLarge(maxBytes: number): ProxyError {
  return new ProxyError(
    413,
    `Request body is larger than the limit of ${Math.round(maxBytes / 1024 / 1024)} MiB (set MAX_BODY_MB to change it).`,
    {
      code: "request_too_large",
    },
  );
}

/** Reads a request body, refusing more than `maxBytes`; runtimes may supply a faster one (node/stream-runtime.ts). */
export type BodyReader = (request: Request, maxBytes: number) => Promise<Uint8Array>;

/**
 * The size limit, shared by every body reader: a declared Content-Length over
 * it is refused before reading, and a body that grows past it while being
 * read (chunked) is refused then.
 */
export class LimitedBody {
  private readonly chunks: Uint8Array[] = [];
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    declaredLength: string | null | undefined,
  ) {
    if (Number(declaredLength) > maxBytes) throw tooLarge(maxBytes);
  }

  /** Throws the 413 once the body passes the limit. */
  add(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    if (this.total > this.maxBytes) throw tooLarge(this.maxBytes);
    this.chunks.push(chunk);
  }

  bytes(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.total);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}

/** The web body reader (the Worker's). */
export async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const body = new LimitedBody(maxBytes, request.headers.get("content-length"));
  if (!request.body) return body.bytes();
  const reader = request.body.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) body.add(chunk.value);
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
  return body.bytes();
}

/**
 * How deep a request body may nest. Real tool and response-format schemas stay
 * well under it; far deeper ones (thousands of levels) would overflow the stack
 * when the request is serialised upstream, so they are refused up front.
 */
const MAX_JSON_DEPTH = 128;

/** The path to a value nested deeper than `levels`, or undefined; never recurses past `levels`. */
function pathTooDeep(value: unknown, levels: number): Array<string | number> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (levels === 0) return [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const path = pathTooDeep(value[i], levels - 1);
      if (path) return [i, ...path];
    }
    return undefined;
  }
  for (const key in value) {
    const path = pathTooDeep((value as Record<string, unknown>)[key], levels - 1);
    if (path) return [key, ...path];
  }
  return undefined;
}

/** `tools[0].function.parameters.properties…`: enough of the path to find the field. */
function formatPath(path: Array<string | number>): string {
  const shown = path
    .slice(0, 8)
    .reduce<string>((out, part) => (typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${part}` : part), "");
  return path.length > 8 ? `${shown}…` : shown;
}

/** Parses the body as a JSON object; arrays, scalars, bad UTF-8, bad JSON and too deep JSON are 400s. */
export async function readJsonObject(
  request: Request,
  maxBytes: number,
  readBody: BodyReader = readLimited,
): Promise<Record<string, unknown>> {
  const bytes = await readBody(request, maxBytes);
  if (bytes.byteLength === 0)
    throw new ProxyError(400, "Request body is empty; expected a JSON object.", { code: "invalid_json" });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
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
  const deep = pathTooDeep(parsed, MAX_JSON_DEPTH);
  if (deep) {
    const param = formatPath(deep);
    throw new ProxyError(
      400,
      `${param} is nested more than ${MAX_JSON_DEPTH} levels deep; request bodies (tool and response-format schemas included) may nest at most ${MAX_JSON_DEPTH} levels.`,
      { param, code: "json_too_deep" },
    );
  }
  return parsed as Record<string, unknown>;
}
