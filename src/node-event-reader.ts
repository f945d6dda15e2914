/**
 * Reads an upstream SSE body straight from Node's IncomingMessage: no web
 * stream, no promise per chunk, one idle timer refreshed per chunk. Used both
 * pull-style (`next()`, while the route looks ahead) and push-style
 * (`onProgress`, by the Node relay once the answer has started).
 */
import type { IncomingMessage } from "node:http";
import { StringDecoder } from "node:string_decoder";
import { connectionLost, SseEventQueue, UpstreamIdleTimeout, type EventReader, type RawEvent } from "./codex/sse.js";
import type { ProxyError } from "./server/errors.js";

export class NodeEventReader implements EventReader {
  private readonly events = new SseEventQueue();
  // StringDecoder decodes UTF-8 about four times faster than TextDecoder on Node 20 (92 µs vs 406 µs per 400 KB).
  private readonly decoder = new StringDecoder("utf8");
  private readonly idleTimer: NodeJS.Timeout;
  /** No more data will come: the body ended, broke, timed out or was cancelled. */
  private settled = false;
  private wake: (() => void) | undefined;
  private progress: (() => void) | undefined;
  private readonly settledListeners: Array<() => void> = [];
  /** The body ended cleanly; events may still be queued. */
  ended = false;
  /** Why the body stopped early; events that arrived before it are still delivered first. */
  failure: ProxyError | undefined;

  /** `abortUpstream` aborts the upstream request, so that its socket is closed rather than left half-read. */
  constructor(
    private readonly message: IncomingMessage,
    private readonly idleTimeoutMs: number,
    private readonly abortUpstream: () => void,
  ) {
    message.on("data", (chunk: Buffer) => {
      if (this.settled) return;
      this.idleTimer.refresh();
      this.events.feed(this.decoder.write(chunk));
      this.notify();
    });
    message.once("end", () => {
      if (this.settled) return;
      this.events.end(this.decoder.end());
      this.ended = true;
      this.settle();
    });
    // 'close' without 'end': the connection broke mid-body.
    message.once("close", () => {
      if (this.settled) return;
      this.failure = connectionLost();
      this.settle();
    });
    // Reported through 'close' above; a listener keeps it from being an uncaught error.
    message.on("error", () => {});
    this.idleTimer = setTimeout(() => {
      if (this.settled) return;
      this.failure = new UpstreamIdleTimeout(this.idleTimeoutMs);
      this.settle();
      this.abortUpstream();
    }, idleTimeoutMs);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.idleTimer);
    this.notify();
    for (const listener of this.settledListeners.splice(0)) listener();
  }

  private notify(): void {
    if (this.progress) return this.progress();
    const wake = this.wake;
    if (wake) {
      this.wake = undefined;
      return wake();
    }
    // Nobody is waiting: hold the body until events are asked for.
    if (!this.settled && this.events.size > 0) this.message.pause();
  }

  async next(): Promise<RawEvent | undefined> {
    for (;;) {
      const raw = this.events.take();
      if (raw) return raw;
      if (this.failure) throw this.failure;
      if (this.settled) return undefined;
      this.message.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  takeBuffered(): RawEvent | undefined {
    return this.events.take();
  }

  /** Push mode: `listener` runs after each chunk's events are queued, and once when the body stops. */
  onProgress(listener: () => void): void {
    this.progress = listener;
    if (!this.settled) this.message.resume();
  }

  /** Backpressure from the client: stop reading the upstream until `resume`. */
  pause(): void {
    this.message.pause();
  }

  resume(): void {
    if (!this.settled) this.message.resume();
  }

  /** After the terminal event: lets the rest of the body arrive so the connection goes back to the pool. */
  drain(maxWaitMs = 5000): Promise<void> {
    if (this.settled) return Promise.resolve();
    this.progress = () => {};
    const timer = setTimeout(() => void this.cancel(), maxWaitMs);
    this.message.resume();
    return new Promise((resolve) =>
      this.settledListeners.push(() => {
        clearTimeout(timer);
        resolve();
      }),
    );
  }

  async cancel(): Promise<void> {
    if (this.settled) return;
    this.settle();
    this.abortUpstream();
    this.message.destroy();
  }
}
