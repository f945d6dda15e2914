/**
 * The Node relay: events from a NodeEventReader become a Node Readable that
 * srvx pipes straight into the ServerResponse. Compared with the web relay it
 * skips four web-stream hops per stream (Readable.toWeb, its reader, our
 * ReadableStream, srvx's reader) and a promise per chunk; on /v1/responses
 * the bulk of the frames pass as the upstream's own bytes. The README's
 * performance section has the numbers.
 */
import { Readable } from "node:stream";
import { SseEventQueue } from "../codex/sse.js";
import { prematureClose } from "../codex/upstream-errors.js";
import type { NodeEventReader } from "./event-reader.js";
import {
  DEFAULT_IDLE_INTERVAL_MS,
  RelayCursor,
  type EventRelay,
  type OpenedStream,
  type StreamOutcome,
} from "../server/event-relay.js";

/**
 * The push pump: each upstream chunk's events become one write. When the
 * client reads slower than the upstream sends, the upstream is paused.
 * Frames of the relay's verbatim types pass as the upstream's bytes, without
 * being decoded or parsed.
 */
export function nodeRelayStream(
  reader: NodeEventReader,
  opened: OpenedStream,
  relay: EventRelay,
  onFinish: (outcome: StreamOutcome) => void,
): Readable {
  const cursor = new RelayCursor(relay);
  const verbatim =
    relay.verbatimTypes?.length && reader.startByteMode() ? new VerbatimFrames(relay.verbatimTypes) : undefined;
  let finished = false;
  // The relay's idle text goes out when a whole interval passed without upstream progress.
  let progressed = true;
  const idleTimer = relay.idleText
    ? setInterval(() => {
        if (!progressed && !finished) stream.push(relay.idleText);
        progressed = false;
      }, relay.idleIntervalMs ?? DEFAULT_IDLE_INTERVAL_MS).unref()
    : undefined;
  const finish = (outcome: StreamOutcome) => {
    finished = true;
    clearInterval(idleTimer);
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
    progressed = true;
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
