/**
 * Web search on the chat route (docs/protocol.md §11): `web_search_options`
 * becomes the backend's hosted `web_search` tool, and the answer's
 * `url_citation` annotations become chat `annotations`. Pure.
 */
import type { OutputItem } from "../codex/events.js";
import { invalidRequest } from "../core/errors.js";
import { isRecord, type Json } from "./json.js";

const CONTEXT_SIZES = new Set(["low", "medium", "high"]);

/** `web_search_options: {search_context_size?, user_location?: {type:"approximate", approximate:{…}}}` → the hosted tool. */
export function webSearchTool(options: unknown): Json | undefined {
  if (options === undefined || options === null) return undefined;
  if (!isRecord(options)) throw invalidRequest("web_search_options must be an object.", "web_search_options");
  const tool: Json = { type: "web_search" };
  const size = options.search_context_size;
  if (size !== undefined && size !== null) {
    if (typeof size !== "string" || !CONTEXT_SIZES.has(size))
      throw invalidRequest(
        'web_search_options.search_context_size must be "low", "medium" or "high".',
        "web_search_options.search_context_size",
      );
    tool.search_context_size = size;
  }
  const location = options.user_location;
  if (isRecord(location) && isRecord(location.approximate)) {
    const place: Json = { type: "approximate" };
    for (const key of ["country", "region", "city", "timezone"])
      if (typeof location.approximate[key] === "string") place[key] = location.approximate[key];
    tool.user_location = place;
  }
  return tool;
}

export interface ChatAnnotation {
  type: "url_citation";
  url_citation: { url: string; title: string; start_index: number; end_index: number };
}

/** The `url_citation` annotations of a message item's text parts, in the chat shape. */
export function chatAnnotations(item: OutputItem): ChatAnnotation[] {
  const out: ChatAnnotation[] = [];
  for (const part of item.content ?? []) {
    const annotations = Array.isArray(part.annotations) ? (part.annotations as unknown[]) : [];
    for (const annotation of annotations) {
      if (!isRecord(annotation) || annotation.type !== "url_citation" || typeof annotation.url !== "string") continue;
      out.push({
        type: "url_citation",
        url_citation: {
          url: annotation.url,
          title: typeof annotation.title === "string" ? annotation.title : "",
          start_index: typeof annotation.start_index === "number" ? annotation.start_index : 0,
          end_index: typeof annotation.end_index === "number" ? annotation.end_index : 0,
        },
      });
    }
  }
  return out;
}
