/** Reads test/fixtures/*.sse into upstream events (the same reader the proxy uses). */
import { readFileSync } from "node:fs";
import type { UpstreamEvent } from "../../src/codex/events.js";
import { parseEventData, UpstreamEventReader } from "../../src/codex/sse.js";

export const FIXTURES = new URL("../fixtures/", import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), "utf8");
}

export async function fixtureEvents(name: string): Promise<UpstreamEvent[]> {
  const bytes = new TextEncoder().encode(fixtureText(name));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // Split into odd-sized pieces to exercise event boundaries across reads.
      for (let i = 0; i < bytes.length; i += 97) controller.enqueue(bytes.subarray(i, i + 97));
      controller.close();
    },
  });
  const reader = new UpstreamEventReader(body, 5000);
  const events: UpstreamEvent[] = [];
  for (let raw = await reader.next(); raw; raw = await reader.next()) {
    const event = parseEventData(raw);
    if (event) events.push(event);
  }
  return events;
}

// Kept here for the tests that import it from this module; it lives with the other SSE readers.
export { chatDataLines } from "./sse.js";
