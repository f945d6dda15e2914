/**
 * The scan behind every non-streaming answer: the finished output items in
 * order, the text and reasoning deltas (the fallback when no item carries
 * them), and the terminal event. An in-stream failure throws; a stream that
 * ends without a terminal event is a cut, never an answer. Pure.
 */
import type { OutputItem, UpstreamEvent } from "../codex/events.js";
import { inStreamFailure, prematureClose } from "../codex/upstream-errors.js";

export interface CollectedAnswer {
  /** `output_item.done` items, ordered by their output index. */
  items: OutputItem[];
  deltaText: string;
  /** Reasoning-summary deltas, with a paragraph break between summary parts. */
  deltaReasoning: string;
  terminal: UpstreamEvent;
}

export function collectAnswer(events: Iterable<UpstreamEvent>): CollectedAnswer {
  const items: Array<{ index: number; item: OutputItem }> = [];
  let deltaText = "";
  let deltaReasoning = "";
  let terminal: UpstreamEvent | undefined;
  for (const event of events) {
    switch (event.type) {
      case "response.output_item.done":
        if (event.item) items.push({ index: event.output_index ?? items.length, item: event.item });
        break;
      case "response.output_text.delta":
        deltaText += event.delta ?? "";
        break;
      case "response.reasoning_summary_text.delta":
        deltaReasoning += event.delta ?? "";
        break;
      case "response.reasoning_summary_part.added":
        if ((event.summary_index ?? 0) > 0) deltaReasoning += "\n\n";
        break;
      case "response.completed":
      case "response.incomplete":
        terminal = event;
        break;
      case "response.failed":
      case "error":
        throw inStreamFailure(event);
    }
    if (terminal) break;
  }
  if (!terminal) throw prematureClose();
  items.sort((a, b) => a.index - b.index);
  return { items: items.map(({ item }) => item), deltaText, deltaReasoning, terminal };
}
