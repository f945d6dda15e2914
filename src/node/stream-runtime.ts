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

/** Reads the body from the IncomingMessage itself: srvx's web body costs a stream and a promise per chunk. */
async function readNodeBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const node = nodeObjectsOf(request);
  const message = node?.req;
  if (!message || request.bodyUsed || message.readableEnded) return readLimited(request, maxBytes);
  // A refused body is left unread: the connection must close after the 413, or the
  // rest of that body would be taken for the next request on it (the client saw ECONNRESET).
  const refuse = (error: unknown) => {
    if (node.res) node.res.shouldKeepAlive = false;
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
        // Stop reading but keep the socket open until the 413 has been sent.
        message.pause();
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
