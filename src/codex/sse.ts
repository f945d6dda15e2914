/**
 * Reads the upstream SSE body into events, one at a time, with an idle
 * timeout, so that routes can look ahead (hold back lifecycle events until
 * the answer starts) and then relay the rest without buffering.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { ProxyError } from "../core/errors.js";
import { formatDuration } from "../core/time.js";
import type { UpstreamEvent } from "./events.js";

export interface RawEvent {
  /** The event type: the `event:` field, else the JSON's `type`. */
  readonly type: string;
  /** The raw `data:` text, unparsed. */
  readonly data: string;
  /**
   * The upstream's own bytes for the whole frame, blank line included, when
   * the relay asked for frames of this type verbatim (`EventReader.passVerbatim`).
   */
  readonly frame?: FrameBytes;
}

/** `bytes[start, end)`: kept as offsets, because a typed-array view per event costs more than the event. */
export interface FrameBytes {
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly end: number;
}

const TYPE_IN_DATA = /"type"\s*:\s*"([^"]+)"/;

export function parseEventData(raw: RawEvent): UpstreamEvent | undefined {
  try {
    const parsed: unknown = JSON.parse(raw.data);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      const event = parsed as UpstreamEvent;
      if (typeof event.type !== "string") event.type = raw.type;
      return event;
    }
  } catch {
    // Unparseable data lines are skipped, as the official client does (docs/protocol.md §5.1).
  }
  return undefined;
}

export class UpstreamIdleTimeout extends ProxyError {
  constructor(idleMs: number) {
    super(504, `The Codex backend sent nothing for ${formatDuration(idleMs)}; the stream was abandoned.`, {
      type: "upstream_error",
      code: "upstream_idle_timeout",
    });
  }
}

/** The socket broke mid-stream (the backend closed it, or the network dropped). */
export function connectionLost(): ProxyError {
  return new ProxyError(
    502,
    "The connection to the Codex backend was lost before the response completed; the answer is incomplete. Retry the request.",
    {
      type: "upstream_error",
      code: "stream_incomplete",
    },
  );
}

function typeOf(message: EventSourceMessage): string {
  if (message.event) return message.event;
  return TYPE_IN_DATA.exec(message.data)?.[1] ?? "message";
}

/** What relays need from a reader. */
export interface EventReader {
  next(): Promise<RawEvent | undefined>;
  takeBuffered(): RawEvent | undefined;
  /** From now on, frames of these types also carry their bytes (`RawEvent.frame`), for a relay that copies them. */
  passVerbatim(types: readonly string[]): void;
  cancel(): Promise<void>;
  drain(maxWaitMs?: number): Promise<void>;
}

const LF = 10;
const CR = 13;
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** The offset just after the first blank line ("\n\n") at or after `from`, or -1. */
function frameEnd(bytes: Uint8Array, from: number): number {
  for (let lf = bytes.indexOf(LF, from); lf !== -1; lf = bytes.indexOf(LF, lf + 1)) {
    if (bytes[lf + 1] === LF) return lf + 2;
  }
  return -1;
}

/** A frame relayed as the upstream sent it: its data is parsed only if someone asks. */
class VerbatimFrame implements RawEvent, FrameBytes {
  private parsed: string | undefined;
  constructor(
    readonly type: string,
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {}

  get frame(): FrameBytes {
    return this;
  }

  get data(): string {
    if (this.parsed === undefined) {
      let data = "";
      createParser({ onEvent: (message) => (data = message.data) }).feed(
        utf8.decode(this.bytes.subarray(this.start, this.end)),
      );
      this.parsed = data;
    }
    return this.parsed;
  }
}

/**
 * The upstream's SSE bytes into a queue of raw events, for the web reader
 * below and Node's (src/node/event-reader.ts). eventsource-parser parses
 * every event, with one exception that a relay asks for: frames whose first
 * line is `event: <type>` for one of `passVerbatim`'s types are cut at their
 * blank line and kept as bytes, neither decoded nor parsed, because they are
 * nearly all of an answer and the relay sends them on unchanged. A body with
 * a CR anywhere is left to the parser whole.
 */
export class SseEventQueue {
  private readonly queue: RawEvent[] = [];
  private head = 0;
  private readonly parser = createParser({
    onEvent: (message) => {
      // The backend sends no [DONE]; handle it anyway in case a relay adds one.
      if (message.data === "[DONE]") return;
      this.queue.push({ type: typeOf(message), data: message.data });
    },
  });
  /** False once a CR was seen: from then on the parser does all the framing, over a streaming decoder. */
  private framing = true;
  private readonly streamDecoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  /** Bytes after the last whole frame, waiting for the rest of it (a frame can span many chunks). */
  private pending: Uint8Array[] = [];
  /** `event: <type>\n` of each verbatim type, with its type. */
  private verbatim: Array<{ prefix: string; type: string }> = [];

  passVerbatim(types: readonly string[]): void {
    this.verbatim = types.map((type) => ({ prefix: `event: ${type}\n`, type }));
  }

  /** The next bytes of the body. */
  feedBytes(chunk: Uint8Array): void {
    if (!this.framing) {
      this.parser.feed(this.streamDecoder.decode(chunk, { stream: true }));
      return;
    }
    let start = 0;
    if (this.pending.length > 0) {
      // The frame begun in earlier chunks ends at the first blank line here (or at this chunk's start).
      const last = this.pending[this.pending.length - 1]!;
      const end = last[last.length - 1] === LF && chunk[0] === LF ? 1 : frameEnd(chunk, 0);
      if (end === -1) {
        if (chunk.includes(CR)) return this.stopFraming(concat([...this.takePending(), chunk]));
        this.pending.push(chunk);
        return;
      }
      const frame = concat([...this.takePending(), chunk.subarray(0, end)]);
      if (!this.frames(frame)) return this.stopFraming(chunk.subarray(end));
      start = end;
    }
    // The last blank line of the chunk: what follows it waits for the next chunk.
    let last = -1;
    for (let lf = chunk.lastIndexOf(LF); lf > start; lf = chunk.lastIndexOf(LF, lf - 1)) {
      if (chunk[lf - 1] === LF) {
        last = lf + 1;
        break;
      }
      if (chunk[lf - 1] === CR) return this.stopFraming(chunk.subarray(start));
    }
    if (last === -1) {
      // No blank line: a CR here means the body ends its lines with CRs alone.
      if (chunk.includes(CR)) return this.stopFraming(chunk.subarray(start));
      if (start < chunk.length) this.pending.push(chunk.subarray(start));
      return;
    }
    if (!this.frames(chunk.subarray(start, last))) return this.stopFraming(chunk.subarray(last));
    if (last < chunk.length) this.pending.push(chunk.subarray(last));
  }

  private takePending(): Uint8Array[] {
    const parts = this.pending;
    this.pending = [];
    return parts;
  }

  /** From now on the parser frames everything, starting with `rest`. */
  private stopFraming(rest: Uint8Array): void {
    this.framing = false;
    if (rest.length > 0) this.parser.feed(this.streamDecoder.decode(rest, { stream: true }));
  }

  /**
   * Whole frames (whole characters too: a frame ends at a newline). Frames of
   * the verbatim types are queued as bytes. That needs a character per byte
   * (ASCII: offsets in the text are offsets in the bytes), which the deltas
   * of an English answer are; other blocks are parsed whole. False, and
   * nothing queued, when the block holds a CR: the parser must frame it.
   */
  private frames(block: Uint8Array): boolean {
    const text = utf8.decode(block);
    if (text.includes("\r")) {
      this.framing = false;
      this.parser.feed(text);
      return false;
    }
    if (this.verbatim.length === 0 || text.length !== block.length) {
      this.parser.feed(text);
      return true;
    }
    let parsedFrom = 0;
    for (let at = 0; at < text.length; ) {
      const blank = text.indexOf("\n\n", at);
      const next = blank === -1 ? text.length : blank + 2;
      const type = this.verbatimType(text, at);
      if (type !== undefined) {
        if (at > parsedFrom) this.parser.feed(text.slice(parsedFrom, at));
        this.queue.push(new VerbatimFrame(type, block, at, next));
        parsedFrom = next;
      }
      at = next;
    }
    if (parsedFrom < text.length) this.parser.feed(parsedFrom === 0 ? text : text.slice(parsedFrom));
    return true;
  }

  private verbatimType(text: string, at: number): string | undefined {
    for (const { prefix, type } of this.verbatim) if (text.startsWith(prefix, at)) return type;
    return undefined;
  }

  /** Flushes an event the body ended without a blank line after. */
  end(): void {
    if (this.framing) this.parser.feed(utf8.decode(concat(this.takePending())));
    else this.parser.feed(this.streamDecoder.decode());
    this.parser.feed("\n\n");
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  take(): RawEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const event = this.queue[this.head++];
    if (this.head === this.queue.length) {
      // Reset instead of shift(): O(1) per event.
      this.queue.length = 0;
      this.head = 0;
    }
    return event;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

/**
 * Reads the upstream's web body into events with an idle timeout. The queue
 * decodes whole frames in one shot: on Node 20 a one-shot decode is about six
 * times cheaper than a streaming one, which was a fifth of the relay's CPU.
 */
export class UpstreamEventReader implements EventReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly events = new SseEventQueue();
  /** The body ended, broke, timed out or was cancelled: nothing more is read. */
  private ended = false;
  private failure: ProxyError | undefined;
  /** When the read in progress started (undefined while not reading: a slow client is not an idle upstream). */
  private readingSince: number | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `abortUpstream` aborts the upstream fetch itself: cancelling the body
   * alone can leave the connection open until the server writes again.
   */
  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly idleTimeoutMs: number,
    private readonly abortUpstream?: () => void,
  ) {
    this.reader = body.getReader();
  }

  /** The body ended: what is left becomes the last event. */
  private finish(): void {
    this.ended = true;
    this.events.end();
    this.stopIdleTimer();
  }

  /**
   * One timer per stream rather than one per read: it fires at most once per
   * idle period, and re-arms for the rest of the period when reads went on.
   */
  private watchIdle(delayMs = this.idleTimeoutMs): void {
    if (this.idleTimer !== undefined) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.readingSince === undefined || this.ended) return;
      const waited = Date.now() - this.readingSince;
      if (waited >= this.idleTimeoutMs) this.timeOut();
      else this.watchIdle(this.idleTimeoutMs - waited);
    }, delayMs);
  }

  private timeOut(): void {
    this.failure = new UpstreamIdleTimeout(this.idleTimeoutMs);
    // Ends the pending read (it resolves as done) and closes the upstream connection.
    void this.cancel();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** The next event, or undefined when the upstream closed. Throws on idle timeout or a broken connection. */
  async next(): Promise<RawEvent | undefined> {
    for (;;) {
      const buffered = this.events.take();
      if (buffered) return buffered;
      if (this.failure) throw this.failure;
      if (this.ended) return undefined;
      this.readingSince = Date.now();
      this.watchIdle();
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await this.reader.read();
      } catch (error) {
        if (!this.ended) {
          this.ended = true;
          this.stopIdleTimer();
          this.failure = error instanceof ProxyError ? error : connectionLost();
        }
        continue;
      } finally {
        this.readingSince = undefined;
      }
      if (this.ended) continue; // cancelled or timed out meanwhile
      if (chunk.done) this.finish();
      else this.events.feedBytes(chunk.value);
    }
  }

  /** An event that has already arrived, without waiting: lets a relay batch what is there into one write. */
  takeBuffered(): RawEvent | undefined {
    return this.events.take();
  }

  passVerbatim(types: readonly string[]): void {
    this.events.passVerbatim(types);
  }

  /**
   * After the terminal event: reads what is left (the backend closes right
   * after it) so that the keep-alive connection goes back to the pool,
   * aborting only if the upstream lingers.
   */
  async drain(maxWaitMs = 5000): Promise<void> {
    if (this.ended) return;
    this.stopIdleTimer();
    const timer = setTimeout(() => void this.cancel(), maxWaitMs);
    try {
      while (!this.ended) {
        const chunk = await this.reader.read();
        if (chunk.done) this.ended = true;
      }
    } catch {
      // Nothing left to deliver: a broken connection here is harmless.
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops reading and closes the upstream connection. */
  async cancel(): Promise<void> {
    const wasReading = !this.ended;
    this.ended = true;
    this.stopIdleTimer();
    if (wasReading) this.abortUpstream?.();
    await this.reader.cancel().catch(() => {});
  }
}

const LIFECYCLE_TYPES = new Set([
  "response.created",
  "response.in_progress",
  "response.queued",
  "codex.rate_limits",
  "codex.response.metadata",
]);

/** Events that carry no part of the answer: held back so that an early failure can still become an HTTP error. */
export function isLifecycleEvent(type: string): boolean {
  return LIFECYCLE_TYPES.has(type);
}
