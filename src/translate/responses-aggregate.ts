/**
 * Rebuilds a Response object from the stream. The backend sends the terminal
 * `response.completed` with an empty `output` (store=false), so the items are
 * collected from `output_item.done` events (docs/protocol.md §5.3). Pure.
 */
import type { OutputItem, UpstreamEvent, UpstreamResponseObject } from "../codex/events.js";

export class OutputCollector {
  private readonly items: Array<{ index: number; item: OutputItem }> = [];

  /** Records an `output_item.done` event. */
  addDone(event: UpstreamEvent): void {
    if (event.item) this.items.push({ index: event.output_index ?? this.items.length, item: event.item });
  }

  get size(): number {
    return this.items.length;
  }

  output(): OutputItem[] {
    return this.items.sort((a, b) => a.index - b.index).map((entry) => entry.item);
  }

  /** The terminal response with `output` rebuilt when the backend left it empty. */
  completeResponse(response: UpstreamResponseObject | undefined): UpstreamResponseObject {
    const base: UpstreamResponseObject = response ?? {};
    if (Array.isArray(base.output) && base.output.length > 0) return base;
    return { ...base, output: this.output() };
  }
}
