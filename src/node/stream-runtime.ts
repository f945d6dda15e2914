/**
 * The Node stream runtime behind `serve`: request bodies and upstream bodies
 * read from their IncomingMessage. It only moves bytes: the framing and the
 * relay are the shared ones. An upstream answer that did not come from
 * upstream-fetch.ts is read as a web body.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { NodeEventReader } from "./event-reader.js";
import { NodeUpstreamResponse } from "./upstream-fetch.js";
import { LimitedBody, readLimited } from "../server/body.js";
import { clientClosed } from "../core/errors.js";
import { webStreamRuntime, type StreamRuntime } from "../server/stream-runtime.js";

/** srvx's request keeps Node's own request and response here. */
function nodeObjectsOf(request: Request): { req?: IncomingMessage; res?: ServerResponse } | undefined {
  return (request as { runtime?: { node?: { req?: IncomingMessage; res?: ServerResponse } } }).runtime?.node;
}

/** How much of a refused body is read and dropped, and for how long, so that the client gets its 413. */
const DRAIN_LIMIT_BYTES = 128 * 1024 * 1024;
const DRAIN_LIMIT_MS = 10_000;

/**
 * Reads and drops the rest of a refused body, within bounds. A client that writes
 * its whole body before reading (most HTTP libraries do) would otherwise be
 * blocked on a full socket, or see the connection reset, instead of reading the
 * 413. Once the body has ended the connection is usable again; past the bounds
 * it is closed.
 */
function drainRefusedBody(message: IncomingMessage): void {
  if (message.readableEnded) return;
  let dropped = 0;
  const giveUp = () => message.socket?.destroy();
  const timer = setTimeout(giveUp, DRAIN_LIMIT_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    dropped += chunk.byteLength;
    if (dropped > DRAIN_LIMIT_BYTES) giveUp();
  };
  message.on("data", onData);
  message.once("close", () => {
    clearTimeout(timer);
    message.off("data", onData);
  });
  message.resume();
}

/** Reads the body from the IncomingMessage itself: srvx's web body costs a stream and a promise per chunk. */
async function readNodeBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const node = nodeObjectsOf(request);
  const message = node?.req;
  if (!message || request.bodyUsed || message.readableEnded) return readLimited(request, maxBytes);
  const refuse = (error: unknown) => {
    drainRefusedBody(message);
    return error;
  };
  let body: LimitedBody;
  try {
    body = new LimitedBody(maxBytes, message.headers["content-length"]);
  } catch (error) {
    throw refuse(error);
  }
  return new Promise((resolve, reject) => {
    const stop = (outcome: () => void) => {
      message.off("data", onData).off("end", onEnd).off("close", onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      try {
        body.add(chunk);
      } catch (error) {
        stop(() => reject(refuse(error)));
      }
    };
    const onEnd = () => stop(() => resolve(body.bytes()));
    const onClose = () => stop(() => reject(clientClosed()));
    message.on("data", onData).once("end", onEnd).once("close", onClose);
  });
}

export const nodeStreamRuntime: StreamRuntime = {
  readBody: readNodeBody,
  eventReader(upstream, idleTimeoutMs, abortUpstream) {
    if (upstream instanceof NodeUpstreamResponse)
      return new NodeEventReader(upstream.message, idleTimeoutMs, abortUpstream);
    return webStreamRuntime.eventReader(upstream, idleTimeoutMs, abortUpstream);
  },
};
