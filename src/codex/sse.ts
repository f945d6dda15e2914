/**
 * Reads the upstream SSE body into events (eventsource-parser), one at a time,
 * with an idle timeout, so that routes can look ahead (hold back lifecycle
 * events until the answer starts) and then relay the rest without buffering.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { ProxyError } from "../server/errors.js";
import type { UpstreamEvent } from "./events.js";

export interface RawEvent {
  /** The event type: the `event:` field, else the JSON's `type`. */
  type: string;
  /** The raw `data:` text, unparsed. */
  data: string;
}

const TYPE_IN_DATA = /"type"\s*:\s*"([^"]+)"/;

function typeOf(message: EventSourceMessage): string {
  if (message.event) return message.event;
  return TYPE_IN_DATA.exec(message.data)?.[1] ?? "message";
}

export function parseEventData(raw: RawEvent): UpstreamEvent | undefined {
  try {
    const parsed: unknown = JSON.parse(raw.data);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      const event = parsed as UpstreamEvent;
      if (typeof event.type !== "string") event.type = raw.type;
      return event;
    }
  } catch {
    // Unparseable data lines are skipped, as the official client does (PROTOCOL §5.1).
  }
  return undefined;
}

export class UpstreamIdleTimeout extends ProxyError {
  constructor(idleMs: number) {
    super(504, `The Codex backend sent nothing for ${Math.round(idleMs / 1000)} s; the stream was abandoned.`, {
      type: "upstream_error",
      code: "upstream_idle_timeout",
    });
  }
}

export class UpstreamEventReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private readonly queue: RawEvent[] = [];
  private readonly parser;
  private ended = false;

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
    this.parser = createParser({
      onEvent: (message) => {
        // The backend sends no [DONE]; handle it anyway in case a relay adds one.
        if (message.data === "[DONE]") return;
        this.queue.push({ type: typeOf(message), data: message.data });
      },
    });
  }

  /** The next event, or undefined when the upstream closed. Throws on idle timeout or a broken connection. */
  async next(): Promise<RawEvent | undefined> {
    while (this.queue.length === 0) {
      if (this.ended) return undefined;
      const chunk = await this.readWithIdleTimeout();
      if (chunk.done) {
        this.ended = true;
        this.parser.feed(this.decoder.decode() + "\n\n");
      } else {
        this.parser.feed(this.decoder.decode(chunk.value, { stream: true }));
      }
    }
    return this.queue.shift();
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
      // The socket broke mid-stream (the backend closed it, or the network dropped).
      throw new ProxyError(502, "The connection to the Codex backend was lost before the response completed; the answer is incomplete. Retry the request.", {
        type: "upstream_error",
        code: "stream_incomplete",
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** True when parsed events are waiting, so a relay can batch them into one write. */
  hasBuffered(): boolean {
    return this.queue.length > 0;
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

const LIFECYCLE_TYPES = new Set(["response.created", "response.in_progress", "response.queued", "codex.rate_limits", "codex.response.metadata"]);

/** Events that carry no part of the answer: held back so that an early failure can still become an HTTP error. */
export function isLifecycleEvent(type: string): boolean {
  return LIFECYCLE_TYPES.has(type);
}
