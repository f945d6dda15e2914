/**
 * Reads an upstream SSE body straight from the IncomingMessage that
 * upstream-fetch.ts received: 'data' events, StringDecoder, one idle timer
 * refreshed per chunk. On Node 20 undici's fetch and its web body cost about
 * 2 ms more CPU per 2,000-event answer than this (the README's performance
 * section). The framing is the shared parser's; this file only moves bytes.
 */
import type { IncomingMessage } from "node:http";
import { StringDecoder } from "node:string_decoder";
import { connectionLost, SseEventQueue, UpstreamIdleTimeout, type EventReader, type RawEvent } from "../codex/sse.js";
import type { ProxyError } from "../core/errors.js";

/** Events read ahead of the relay before the upstream is paused: about 250 KB of deltas. */
const BACKLOG_EVENTS = 1000;

export class NodeEventReader implements EventReader {
  private readonly events = new SseEventQueue();
  private readonly decoder = new StringDecoder("utf8");
  private readonly idleTimer: NodeJS.Timeout;
  /** No more data will come: the body ended, broke, timed out or was cancelled. */
  private settled = false;
  private failure: ProxyError | undefined;
  private wake: (() => void) | undefined;
  private draining = false;

  /** `abortUpstream` aborts the upstream request, so that its socket is closed rather than left half-read. */
  constructor(
    private readonly message: IncomingMessage,
    private readonly idleTimeoutMs: number,
    private readonly abortUpstream: () => void,
  ) {
    message.on("data", (chunk: Buffer) => {
      if (this.settled || this.draining) return;
      this.idleTimer.refresh();
      this.events.feed(this.decoder.write(chunk));
      if (this.wake) this.notify();
      // Hold the body once a backlog builds up: the client's reads pace the upstream. (Pausing
      // after every chunk instead cost a socket read stop and restart per chunk.)
      else if (this.events.size > BACKLOG_EVENTS) message.pause();
    });
    message.once("end", () => {
      if (this.settled) return;
      this.events.feed(this.decoder.end());
      this.events.end();
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
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async next(): Promise<RawEvent | undefined> {
    for (;;) {
      const raw = this.events.take();
      if (raw) return raw;
      if (this.failure) throw this.failure;
      if (this.settled) return undefined;
      const arrived = new Promise<void>((resolve) => (this.wake = resolve));
      this.message.resume();
      await arrived;
    }
  }

  takeBuffered(): RawEvent | undefined {
    return this.events.take();
  }

  /** After the terminal event: lets the rest of the body arrive so the connection goes back to the pool. */
  drain(maxWaitMs = 5000): Promise<void> {
    if (this.settled) return Promise.resolve();
    // From now on what arrives is dropped; the end (or the timer's cancel) settles the reader.
    this.draining = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => void this.cancel(), maxWaitMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.message.resume();
    });
  }

  async cancel(): Promise<void> {
    if (this.settled) return;
    this.settle();
    this.abortUpstream();
    this.message.destroy();
  }
}
