/**
 * How a runtime reads request bodies and upstream event streams. The web
 * version here serves the Worker; src/node/stream-runtime.ts reads Node's
 * own messages. Both feed the same parser and the same relay (event-relay.ts).
 */
import { UpstreamEventReader, type EventReader } from "../codex/sse.js";
import { readLimited, type BodyReader } from "./body.js";

export interface StreamRuntime {
  readBody: BodyReader;
  eventReader(upstream: Response, idleTimeoutMs: number, abortUpstream: () => void): EventReader;
}

export const webStreamRuntime: StreamRuntime = {
  readBody: readLimited,
  eventReader: (upstream, idleTimeoutMs, abortUpstream) =>
    new UpstreamEventReader(upstream.body!, idleTimeoutMs, abortUpstream),
};
