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
  cancel(): Promise<void>;
  drain(maxWaitMs?: number): Promise<void>;
}

/**
 * eventsource-parser feeding a queue of raw events; the readers for the web
 * body and for Node's IncomingMessage share it.
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

  feed(text: string): void {
    this.parser.feed(text);
  }

  /** Flushes an event the body ended without a blank line after. */
  end(rest: string): void {
    this.parser.feed(`${rest}\n\n`);
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

/** Decodes a web body and parses it with eventsource-parser into a queue of events. */
export class UpstreamEventReader implements EventReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly events = new SseEventQueue();
  private ended = false;
  // Node reads through NodeEventReader and its StringDecoder; this reader serves the web runtimes.
  private readonly decoder = new TextDecoder();

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

  /** Parses a chunk (or, with `undefined`, the end of the body) into `queue`. */
  private ingest(chunk: Uint8Array | undefined): void {
    if (chunk) this.events.feed(this.decoder.decode(chunk, { stream: true }));
    else this.events.end(this.decoder.decode());
  }

  /** The next event, or undefined when the upstream closed. Throws on idle timeout or a broken connection. */
  async next(): Promise<RawEvent | undefined> {
    for (;;) {
      const buffered = this.takeBuffered();
      if (buffered) return buffered;
      if (this.ended) return undefined;
      const chunk = await this.readWithIdleTimeout();
      if (chunk.done) {
        this.ended = true;
        this.ingest(undefined);
      } else {
        this.ingest(chunk.value);
      }
    }
  }

  /** An event that has already arrived, without waiting: lets a relay batch what is there into one write. */
  takeBuffered(): RawEvent | undefined {
    return this.events.take();
  }

  private async readWithIdleTimeout(): Promise<ReadableStreamReadResult<Uint8Array>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UpstreamIdleTimeout(this.idleTimeoutMs)), this.idleTimeoutMs);
    });
    try {
      return await Promise.race([this.reader.read(), timeout]);
    } catch (error) {
      if (error instanceof UpstreamIdleTimeout) {
        void this.cancel();
        throw error;
      }
      if (error instanceof ProxyError) throw error;
      throw connectionLost();
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /**
   * After the terminal event: reads what is left (the backend closes right
   * after it) so that the keep-alive connection goes back to the pool,
   * aborting only if the upstream lingers.
   */
  async drain(maxWaitMs = 5000): Promise<void> {
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
