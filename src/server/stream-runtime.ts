/**
 * How a runtime reads request bodies and upstream event streams, and sends
 * relayed streams. The web version here serves the Worker; node/stream-runtime.ts
 * skips the web-stream hops on Node.
 */
import { UpstreamEventReader, type EventReader } from "../codex/sse.js";
import { readLimited, type BodyReader } from "./body.js";
import { relayEvents, SSE_HEADERS, type EventRelay, type OpenedStream, type StreamOutcome } from "./event-relay.js";

export interface StreamRuntime {
  readBody: BodyReader;
  eventReader(upstream: Response, idleTimeoutMs: number, abortUpstream: () => void): EventReader;
  /** The 200 event-stream response for a relayed stream. */
  eventResponse(
    reader: EventReader,
    opened: OpenedStream,
    relay: EventRelay,
    onFinish: (outcome: StreamOutcome) => void,
  ): Response;
}

export const webStreamRuntime: StreamRuntime = {
  readBody: readLimited,
  eventReader: (upstream, idleTimeoutMs, abortUpstream) =>
    new UpstreamEventReader(upstream.body!, idleTimeoutMs, abortUpstream),
  eventResponse: (reader, opened, relay, onFinish) =>
    new Response(relayEvents(reader, opened, relay, onFinish), { status: 200, headers: SSE_HEADERS }),
};
