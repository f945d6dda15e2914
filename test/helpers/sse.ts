/**
 * Reading server-sent events in tests, with the same spec-following parser
 * (eventsource-parser) for every stream: raw frames, JSON frames, chat chunks.
 */
import { createParser } from "eventsource-parser";

export interface RawSseEvent {
  event?: string;
  data: string;
}

export interface SseEvent {
  event: string;
  // Parsed event JSON of varying shape; the assertions index into it.
  // biome-ignore lint/suspicious/noExplicitAny: JSON of unknown shape that tests index into freely
  data: any;
}

/** Every event of an SSE text, `data` left as the text it was. */
export function parseSse(text: string): RawSseEvent[] {
  const events: RawSseEvent[] = [];
  const parser = createParser({ onEvent: (message) => events.push({ event: message.event, data: message.data }) });
  // No flush at the end: like a real client, a last frame without its blank line is not an event.
  parser.feed(text);
  return events;
}

/** Every event of an SSE text with its data parsed as JSON (Responses-style streams: all data is JSON). */
export function parseSseJson(text: string): SseEvent[] {
  return parseSse(text).map(({ event, data }) => ({ event: event ?? "", data: JSON.parse(data) }));
}

/** The JSON payloads of `data:` lines of a chat SSE text ("[DONE]" kept as a string). */
export function chatDataLines(sse: string): unknown[] {
  return parseSse(sse).map(({ data }) => (data === "[DONE]" ? data : JSON.parse(data)));
}

/** The assistant text of a chat completions stream: its `choices[0].delta.content` pieces joined. */
export function chatStreamText(sse: string): string {
  return chatDataLines(sse)
    .map((chunk) =>
      chunk === "[DONE]"
        ? ""
        : ((chunk as { choices?: Array<{ delta?: { content?: string | null } }> }).choices?.[0]?.delta?.content ?? ""),
    )
    .join("");
}
