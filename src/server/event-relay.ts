/**
 * Turns the upstream event reader into the client's response stream. Events
 * that already arrived are relayed together in one write; nothing waits for
 * more than the network gives. Early failures become HTTP errors: lifecycle
 * events are held back until the first event that carries the answer.
 */
import { isTerminalEvent } from "../codex/events.js";
import { isLifecycleEvent, parseEventData, type RawEvent, type UpstreamEventReader } from "../codex/sse.js";
import { inStreamFailure, prematureClose } from "../codex/upstream-errors.js";
import { type ProxyError, toProxyError } from "./errors.js";

export interface EventRelay {
  /** Client-facing text for one upstream event ("" to send nothing). */
  onEvent(raw: RawEvent): string;
  /** The upstream closed; text to finish with (an error if no terminal event was seen). */
  onEnd(): string;
  /** Reading failed (idle timeout, broken connection); text that tells the client. */
  onError(error: ProxyError): string;
}

export interface StreamOutcome {
  /** Set when the stream ended in an error the client was told about. */
  error?: ProxyError;
  /** The client went away first. */
  cancelled: boolean;
}

export interface OpenedStream {
  prelude: RawEvent[];
}

const FAILURE_TYPES = new Set(["response.failed", "error"]);

/**
 * Reads up to the first event that is part of the answer. A failure or a
 * close before that point is thrown, so the route can still answer with an
 * HTTP error status instead of a 200 stream.
 */
export async function openEventStream(reader: UpstreamEventReader): Promise<OpenedStream> {
  const prelude: RawEvent[] = [];
  for (;;) {
    const raw = await reader.next();
    if (!raw) throw prematureClose();
    if (FAILURE_TYPES.has(raw.type)) {
      await reader.cancel();
      throw inStreamFailure(parseEventData(raw) ?? { type: raw.type });
    }
    prelude.push(raw);
    if (!isLifecycleEvent(raw.type)) return { prelude };
  }
}

const encoder = new TextEncoder();

export function relayEvents(
  reader: UpstreamEventReader,
  opened: OpenedStream,
  relay: EventRelay,
  onFinish: (outcome: StreamOutcome) => void,
): ReadableStream<Uint8Array> {
  let finished = false;
  const finish = (outcome: StreamOutcome) => {
    if (finished) return;
    finished = true;
    onFinish(outcome);
  };
  let sawTerminal = false;
  const handle = (raw: RawEvent): string => {
    if (isTerminalEvent(raw.type)) sawTerminal = true;
    return relay.onEvent(raw);
  };

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let text = "";
        for (const raw of opened.prelude) text += handle(raw);
        if (text) controller.enqueue(encoder.encode(text));
      },
      async pull(controller) {
        let text = "";
        try {
          // Wait for one event, then take whatever else has already arrived.
          for (;;) {
            const raw = await reader.next();
            if (!raw) {
              text += relay.onEnd();
              controller.enqueue(encoder.encode(text));
              controller.close();
              finish({ cancelled: false, error: sawTerminal ? undefined : prematureClose() });
              return;
            }
            text += handle(raw);
            if (sawTerminal || (text && !reader.hasBuffered())) break;
          }
          if (text) controller.enqueue(encoder.encode(text));
          if (sawTerminal) {
            // Nothing follows a terminal event: close now rather than wait for the socket.
            text = relay.onEnd();
            if (text) controller.enqueue(encoder.encode(text));
            controller.close();
            void reader.drain();
            finish({ cancelled: false });
          }
        } catch (error) {
          const proxyError = toProxyError(error);
          controller.enqueue(encoder.encode(text + relay.onError(proxyError)));
          controller.close();
          await reader.cancel();
          finish({ cancelled: false, error: proxyError });
        }
      },
      async cancel() {
        await reader.cancel();
        finish({ cancelled: true });
      },
    },
    { highWaterMark: 0 },
  );
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
} as const;
