/**
 * The Node stream runtime: upstream bodies read from the IncomingMessage, and
 * relayed streams sent as a Node Readable that srvx pipes straight into the
 * ServerResponse. On Node 20 this skips four web-stream hops per stream
 * (Readable.toWeb, the reader, our ReadableStream, srvx's reader) and the
 * promise per chunk each of them costs; see bench/README or the README's
 * performance section for the numbers.
 */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { NodeResponse } from "srvx/node";
import { SseEventQueue, UpstreamEventReader, type ChunkDecoder } from "./codex/sse.js";
import { prematureClose } from "./codex/upstream-errors.js";
import { NodeEventReader } from "./node-event-reader.js";
import { incomingMessageOf } from "./node-fetch.js";
import { readLimited, tooLarge } from "./server/body.js";
import { ProxyError } from "./server/errors.js";
import { RelayCursor, SSE_HEADERS, webStreamRuntime, type EventRelay, type OpenedStream, type StreamOutcome, type StreamRuntime } from "./server/event-relay.js";

function nodeChunkDecoder(): ChunkDecoder {
  const decoder = new StringDecoder("utf8");
  return {
    write: (chunk) => decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    end: () => decoder.end(),
  };
}

/**
 * The push pump: each upstream chunk's events become one write. When the
 * client reads slower than the upstream sends, the upstream is paused.
 * Frames of the relay's verbatim types pass as the upstream's bytes, without
 * being decoded or parsed.
 */
export function nodeRelayStream(reader: NodeEventReader, opened: OpenedStream, relay: EventRelay, onFinish: (outcome: StreamOutcome) => void): Readable {
  const cursor = new RelayCursor(relay);
  const verbatimTypes = relay.shortcuts?.verbatim ?? [];
  const verbatim = verbatimTypes.length > 0 && reader.startByteMode() ? new VerbatimFrames(verbatimTypes) : undefined;
  let finished = false;
  const finish = (outcome: StreamOutcome) => {
    finished = true;
    onFinish(outcome);
  };
  const stream = new Readable({
    read: () => reader.resume(),
    destroy: (error, callback) => {
      // The client went away (srvx's pipeline destroys us when the response closes).
      if (!finished) {
        void reader.cancel();
        finish({ cancelled: true });
      }
      callback(error);
    },
  });

  const out: Array<Buffer | string> = [];
  const flushText = () => {
    const text = cursor.take();
    if (text) out.push(text);
  };

  const pump = () => {
    if (finished) return;
    // Events parsed before byte mode, then blocks, then a last frame the parser flushed at the end.
    cursor.addBuffered(reader, Infinity);
    if (verbatim) {
      for (let block = reader.takeBlock(); block && !cursor.terminal; block = reader.takeBlock()) {
        flushText();
        verbatim.relay(block, cursor, out);
      }
      cursor.addBuffered(reader, Infinity);
    }
    let outcome: StreamOutcome | undefined;
    if (cursor.terminal) {
      // Nothing follows a terminal event: end now rather than wait for the socket.
      cursor.end();
      void reader.drain();
      outcome = { cancelled: false };
    } else if (reader.failure) {
      cursor.fail(reader.failure);
      outcome = { cancelled: false, error: reader.failure };
    } else if (reader.ended) {
      cursor.end();
      outcome = { cancelled: false, error: prematureClose() };
    }
    flushText();
    let wantsMore = true;
    for (const piece of out) wantsMore = stream.push(piece);
    out.length = 0;
    if (outcome) {
      stream.push(null);
      finish(outcome);
    } else if (!wantsMore) {
      reader.pause();
    }
  };

  for (const raw of opened.prelude) cursor.add(raw);
  reader.onProgress(pump);
  pump();
  return stream;
}

const LF = 10;

/**
 * Splits blocks of whole frames: frames whose first line is `event: <verbatim
 * type>` are copied as bytes (runs of them as one slice); any other frame is
 * parsed and handed to the cursor, whose relay may rewrite it.
 */
class VerbatimFrames {
  private readonly prefixes: Buffer[];
  private readonly parser = new SseEventQueue();

  constructor(types: readonly string[]) {
    this.prefixes = types.map((type) => Buffer.from(`event: ${type}\n`));
  }

  private isVerbatim(block: Buffer, at: number): boolean {
    for (const prefix of this.prefixes) {
      if (at + prefix.length > block.length) continue;
      let i = 0;
      while (i < prefix.length && block[at + i] === prefix[i]) i++;
      if (i === prefix.length) return true;
    }
    return false;
  }

  /** Appends the output for `block` to `out`; stops after a terminal event. */
  relay(block: Buffer, cursor: RelayCursor, out: Array<Buffer | string>): void {
    let runStart = 0;
    let at = 0;
    while (at < block.length && !cursor.terminal) {
      const end = frameEnd(block, at);
      if (!this.isVerbatim(block, at)) {
        if (at > runStart) out.push(block.subarray(runStart, at));
        this.parser.feed(block.toString("utf8", at, end));
        for (let raw = this.parser.take(); raw && !cursor.terminal; raw = this.parser.take()) cursor.add(raw);
        const text = cursor.take();
        if (text) out.push(text);
        runStart = end;
      }
      at = end;
    }
    if (!cursor.terminal && runStart < block.length) out.push(runStart === 0 ? block : block.subarray(runStart));
  }
}

/** The offset just after the blank line that ends the frame starting at `at` (blocks hold whole frames). */
function frameEnd(block: Buffer, at: number): number {
  for (let lf = block.indexOf(LF, at); lf !== -1; lf = block.indexOf(LF, lf + 1)) {
    if (block[lf + 1] === LF) return lf + 2;
  }
  return block.length;
}

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
      reject(new ProxyError(499, "Client closed the request", { type: "client_closed", code: "client_closed" }));
    };
    message.on("data", onData).once("end", onEnd).once("close", onClose);
  });
}

export const nodeStreamRuntime: StreamRuntime = {
  readBody: readNodeBody,
  eventReader(upstream, idleTimeoutMs, abortUpstream) {
    const message = incomingMessageOf(upstream);
    if (message) return new NodeEventReader(message, idleTimeoutMs, abortUpstream);
    return new UpstreamEventReader(upstream.body!, idleTimeoutMs, abortUpstream, nodeChunkDecoder());
  },
  eventResponse(reader, opened, relay, onFinish) {
    if (!(reader instanceof NodeEventReader)) return webStreamRuntime.eventResponse(reader, opened, relay, onFinish);
    const body = nodeRelayStream(reader, opened, relay, onFinish);
    // srvx's types list only web bodies, but its Node adapter pipes a body with `.pipe` into the ServerResponse.
    return new NodeResponse(body as unknown as ReadableStream<Uint8Array>, { status: 200, headers: SSE_HEADERS });
  },
};
