/**
 * The Node stream runtime behind `serve`: request bodies and upstream bodies
 * read from their IncomingMessage, relayed streams sent by node-relay.ts.
 * Whatever did not come from node-fetch.ts falls back to the web path.
 */
import type { IncomingMessage } from "node:http";
import { NodeResponse } from "srvx/node";
import { NodeEventReader } from "./node-event-reader.js";
import { incomingMessageOf } from "./node-fetch.js";
import { nodeRelayStream } from "./node-relay.js";
import { readLimited, tooLarge } from "./server/body.js";
import { clientClosed } from "./server/errors.js";
import { SSE_HEADERS, webStreamRuntime, type StreamRuntime } from "./server/event-relay.js";

/** srvx's request keeps Node's IncomingMessage here. */
function incomingRequestOf(request: Request): IncomingMessage | undefined {
  return (request as { runtime?: { node?: { req?: IncomingMessage } } }).runtime?.node?.req;
}

/** Reads the body from the IncomingMessage itself: srvx's web body costs a stream and a promise per chunk. */
function readNodeBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const message = incomingRequestOf(request);
  if (!message || request.bodyUsed || message.readableEnded) return readLimited(request, maxBytes);
  const declared = Number(message.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      message.off("data", onData).off("end", onEnd).off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stop();
        message.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onClose = () => {
      stop();
      reject(clientClosed());
    };
    message.on("data", onData).once("end", onEnd).once("close", onClose);
  });
}

export const nodeStreamRuntime: StreamRuntime = {
  readBody: readNodeBody,
  eventReader(upstream, idleTimeoutMs, abortUpstream) {
    const message = incomingMessageOf(upstream);
    if (message) return new NodeEventReader(message, idleTimeoutMs, abortUpstream);
    return webStreamRuntime.eventReader(upstream, idleTimeoutMs, abortUpstream);
  },
  eventResponse(reader, opened, relay, onFinish) {
    if (!(reader instanceof NodeEventReader)) return webStreamRuntime.eventResponse(reader, opened, relay, onFinish);
    const body = nodeRelayStream(reader, opened, relay, onFinish);
    // srvx's types list only web bodies, but its Node adapter pipes a body with `.pipe` into the ServerResponse.
    return new NodeResponse(body as unknown as ReadableStream<Uint8Array>, { status: 200, headers: SSE_HEADERS });
  },
};
