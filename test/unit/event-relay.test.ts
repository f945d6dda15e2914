/**
 * The relay (an event reader → relayEvents) must send the same events however
 * the upstream body is chunked: whole, one byte at a time, odd sizes, CRLF
 * line ends, a last frame without its blank line, characters split across
 * chunks; and whichever reader feeds it: the web body's (Worker) or the
 * IncomingMessage's (Node). Outputs are compared as parsed SSE events against
 * the web body read in one piece, and against what each route must send.
 */
import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";
import { createParser } from "eventsource-parser";
import { afterEach, describe, expect, it, vi } from "vitest";
import { UpstreamEventReader, type EventReader } from "../../src/codex/sse.js";
import { NodeEventReader } from "../../src/node/event-reader.js";
import { openEventStream, relayEvents } from "../../src/server/event-relay.js";
import { ResponsesRelay } from "../../src/server/routes/responses.js";
import { ChatRelay } from "../../src/server/routes/chat-completions.js";
import { ChatStreamTranslator } from "../../src/translate/chat-response.js";
import { fixtureText } from "../helpers/fixtures.js";

type Event = { event?: string; data: string };

function parseSse(text: string): Event[] {
  const events: Event[] = [];
  const parser = createParser({ onEvent: (m) => events.push({ event: m.event, data: m.data }) });
  parser.feed(text);
  return events;
}

function pieces(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** A body that hands out one piece per read, as a socket would. */
function bodyOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (next < chunks.length) controller.enqueue(chunks[next++]!);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

type RelayKind = "responses" | "chat";
const newRelay = (kind: RelayKind) =>
  kind === "responses"
    ? new ResponsesRelay()
    : new ChatRelay(
        new ChatStreamTranslator({
          id: "chatcmpl-test",
          created: 0,
          model: "gpt-5.5",
          includeUsage: true,
          reasoningOutput: "reasoning_content",
          toolNames: new Map(),
        }),
      );

/** A Node message written chunk by chunk, asynchronously, as a socket would. */
function messageOf(chunks: Uint8Array[]): PassThrough {
  const message = new PassThrough();
  void (async () => {
    for (const chunk of chunks) {
      message.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    message.end();
  })();
  return message;
}

type ReaderKind = "web" | "node";
const newReader = (reader: ReaderKind, chunks: Uint8Array[]): EventReader => {
  if (reader === "web") return new UpstreamEventReader(bodyOf(chunks), 5000);
  const message = messageOf(chunks);
  return new NodeEventReader(message as unknown as IncomingMessage, 5000, () => message.destroy());
};

async function relay(kind: RelayKind, chunks: Uint8Array[], readerKind: ReaderKind = "web"): Promise<string> {
  const reader = newReader(readerKind, chunks);
  const opened = await openEventStream(reader);
  return new Response(relayEvents(reader, opened, newRelay(kind), () => {})).text();
}

const bytesOf = (text: string) => new TextEncoder().encode(text);
const whole = (kind: RelayKind, text: string) => relay(kind, [bytesOf(text)]);

const FIXTURES = ["text-answer.sse", "reasoning-then-text.sse", "function-call.sse", "parallel-function-calls.sse"];
const CHUNKINGS: Array<[string, number[]]> = [
  ["one byte at a time", [1]],
  ["odd sizes", [7, 97, 3, 250, 1, 64]],
  ["two bytes then a large piece", [2, 4096]],
];

describe("relay of upstream event streams", () => {
  for (const readerKind of ["web", "node"] as const) {
    for (const kind of ["responses", "chat"] as const) {
      for (const fixture of FIXTURES) {
        it.each([["whole", [1 << 20]] as [string, number[]], ...CHUNKINGS])(
          `${readerKind} reader, ${kind}: ${fixture}, %s, matches the web body read whole`,
          async (_name, sizes) => {
            const text = fixtureText(fixture);
            const expected = parseSse(await whole(kind, text));
            expect(expected.length).toBeGreaterThan(3);
            expect(parseSse(await relay(kind, pieces(bytesOf(text), sizes), readerKind))).toEqual(expected);
          },
        );
      }
    }
  }

  it("responses: relays every upstream event, in order, with the terminal one's output rebuilt", async () => {
    const text = fixtureText("function-call.sse");
    const upstream = parseSse(text);
    const relayed = parseSse(await relay("responses", pieces(bytesOf(text), [13])));
    expect(relayed.map((e) => e.event)).toEqual(upstream.map((e) => e.event));
    expect(relayed.slice(0, -1)).toEqual(upstream.slice(0, -1));
    const completed = JSON.parse(relayed.at(-1)!.data) as { response: { output: unknown[] } };
    expect(completed.response.output.length).toBeGreaterThan(0);
  });

  it.each(["web", "node"] as const)(
    "%s reader, chat: multi-byte text split across chunks, escapes and a spaced field come out whole",
    async (readerKind) => {
      const text = fixtureText("text-answer.sse")
        .replace('"delta":"The capital"', '"delta":"Th\\"e \\\\ \\"capital\\" 🇫🇷 é"')
        .replace('"delta":" of France"', '"delta": " of France"');
      for (const sizes of [[1], [3, 5], [1 << 20]]) {
        const content = parseSse(await relay("chat", pieces(bytesOf(text), sizes), readerKind))
          .filter((e) => e.data.startsWith("{"))
          .map(
            (e) =>
              (JSON.parse(e.data) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ??
              "",
          )
          .join("");
        expect(content).toContain('Th"e \\ "capital" 🇫🇷 é of France');
      }
    },
  );

  it.each(["web", "node"] as const)("%s reader: reads CRLF line ends as LF ones", async (readerKind) => {
    const text = fixtureText("function-call.sse");
    const expected = parseSse(await whole("responses", text));
    const crlf = bytesOf(text.replace(/\n/g, "\r\n"));
    expect(parseSse(await relay("responses", pieces(crlf, [5, 300]), readerKind))).toEqual(expected);
    // A CR and its LF in different chunks.
    const cut = crlf.indexOf(13) + 1;
    expect(parseSse(await relay("responses", [crlf.subarray(0, cut), crlf.subarray(cut)], readerKind))).toEqual(
      expected,
    );
  });

  it.each(["web", "node"] as const)(
    "%s reader: relays a last frame that has no blank line after it",
    async (readerKind) => {
      const text = fixtureText("text-answer.sse");
      const expected = parseSse(await whole("responses", text));
      expect(expected.at(-1)?.event).toBe("response.completed");
      expect(parseSse(await relay("responses", pieces(bytesOf(text.trimEnd()), [31]), readerKind))).toEqual(expected);
    },
  );
});

describe("UpstreamEventReader", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A body the test writes to by hand. */
  function manualBody() {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    return { body, write: (text: string) => controller.enqueue(bytesOf(text)), end: () => controller.close() };
  }
  const frame = (type: string) => `event: ${type}\ndata: {"type":"${type}"}\n\n`;

  it("times out only after the idle time passes with nothing read, however long the stream as a whole", async () => {
    vi.useFakeTimers();
    const { body, write } = manualBody();
    let aborted = false;
    const reader = new UpstreamEventReader(body, 1000, () => (aborted = true));
    // Chunks 600 ms apart for 6 s: never idle for 1 s.
    for (let i = 0; i < 10; i++) {
      const next = reader.next();
      await vi.advanceTimersByTimeAsync(600);
      write(frame(`e${i}`));
      await expect(next).resolves.toMatchObject({ type: `e${i}` });
    }
    const stalled = reader.next();
    const outcome = expect(stalled).rejects.toMatchObject({ code: "upstream_idle_timeout" });
    await vi.advanceTimersByTimeAsync(999);
    expect(aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    await outcome;
    expect(aborted).toBe(true);
  });

  it("does not count the time a slow client leaves it unread as upstream idleness", async () => {
    vi.useFakeTimers();
    const { body, write } = manualBody();
    const reader = new UpstreamEventReader(body, 1000, () => {});
    write(frame("a"));
    await expect(reader.next()).resolves.toMatchObject({ type: "a" });
    await vi.advanceTimersByTimeAsync(5000);
    write(frame("b"));
    await expect(reader.next()).resolves.toMatchObject({ type: "b" });
  });

  it("after the terminal event drains the body to its end, so the socket can be reused, and gives up after maxWait", async () => {
    const lingering = async (end: boolean) => {
      const { body, write, end: close } = manualBody();
      let aborted = false;
      const reader = new UpstreamEventReader(body, 5000, () => (aborted = true));
      write(frame("response.completed"));
      await expect(reader.next()).resolves.toMatchObject({ type: "response.completed" });
      const drained = reader.drain(200);
      write("\n");
      if (end) close();
      await drained;
      return aborted;
    };
    expect(await lingering(true)).toBe(false);
    expect(await lingering(false)).toBe(true);
  });

  it("reports a body that breaks mid-stream as a lost connection, after the events that came before", async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    const reader = new UpstreamEventReader(body, 5000);
    controller.enqueue(bytesOf(frame("a")));
    await expect(reader.next()).resolves.toMatchObject({ type: "a" });
    controller.error(new TypeError("terminated"));
    await expect(reader.next()).rejects.toMatchObject({ code: "stream_incomplete" });
  });
});

describe("NodeEventReader", () => {
  it("after the terminal event reads the body to its end, so the upstream socket can be reused, and gives up after maxWait", async () => {
    const lingering = async (end: boolean) => {
      const message = new PassThrough();
      let aborted = false;
      const reader = new NodeEventReader(message as unknown as IncomingMessage, 5000, () => (aborted = true));
      message.write(`event: response.completed\ndata: {"type":"response.completed"}\n\n`);
      await expect(reader.next()).resolves.toMatchObject({ type: "response.completed" });
      const drained = reader.drain(200);
      message.write("\n");
      if (end) message.end();
      await drained;
      return { aborted, destroyed: message.destroyed };
    };
    expect(await lingering(true)).toMatchObject({ aborted: false });
    expect(await lingering(false)).toMatchObject({ aborted: true, destroyed: true });
  });

  it("reports a message that closes before its end as a lost connection, after the events that came before", async () => {
    const message = new PassThrough();
    const reader = new NodeEventReader(message as unknown as IncomingMessage, 5000, () => {});
    message.write(`event: a\ndata: {"type":"a"}\n\n`);
    await expect(reader.next()).resolves.toMatchObject({ type: "a" });
    message.destroy();
    await expect(reader.next()).rejects.toMatchObject({ code: "stream_incomplete" });
  });
});
