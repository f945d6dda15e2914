/**
 * The Node relay (whole-frame blocks, verbatim bytes for deltas) must send
 * the same events as the web relay, however the upstream body is chunked:
 * one byte at a time, odd sizes, CRLF line ends, a last frame without its
 * blank line. Both sides are compared as parsed SSE events.
 */
import type { IncomingMessage } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { UpstreamEventReader } from "../../src/codex/sse.js";
import { NodeEventReader } from "../../src/node/event-reader.js";
import { nodeRelayStream } from "../../src/node/relay.js";
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

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString("utf8");
}

function pieces(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
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

async function throughNode(kind: RelayKind, chunks: Buffer[]): Promise<string> {
  const message = new PassThrough();
  const reader = new NodeEventReader(message as unknown as IncomingMessage, 5000, () => message.destroy());
  // Write asynchronously, as a socket would, so that the relay switches modes mid-body.
  void (async () => {
    for (const chunk of chunks) {
      message.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    message.end();
  })();
  const opened = await openEventStream(reader);
  return readAll(nodeRelayStream(reader, opened, newRelay(kind), () => {}));
}

async function throughWeb(kind: RelayKind, text: string): Promise<string> {
  const body = new Response(text).body!;
  const reader = new UpstreamEventReader(body, 5000);
  const opened = await openEventStream(reader);
  return new Response(relayEvents(reader, opened, newRelay(kind), () => {})).text();
}

const FIXTURES = ["text-answer.sse", "reasoning-then-text.sse", "function-call.sse", "parallel-function-calls.sse"];
const CHUNKINGS: Array<[string, number[]]> = [
  ["whole body", [1 << 20]],
  ["one byte at a time", [1]],
  ["odd sizes", [7, 97, 3, 250, 1, 64]],
];

describe("Node relay against the web relay", () => {
  for (const kind of ["responses", "chat"] as const) {
    for (const fixture of FIXTURES) {
      it.each(CHUNKINGS)(`${kind}: ${fixture}, %s`, async (_name, sizes) => {
        const text = fixtureText(fixture);
        const expected = parseSse(await throughWeb(kind, text));
        expect(expected.length).toBeGreaterThan(3);
        expect(parseSse(await throughNode(kind, pieces(Buffer.from(text), sizes)))).toEqual(expected);
      });
    }
  }

  it("passes delta frames on /v1/responses as the upstream's own bytes", async () => {
    const text = fixtureText("text-answer.sse");
    const firstDelta = text.split("\n\n").find((frame) => frame.startsWith("event: response.output_text.delta"))!;
    // A field order the proxy would never write: only a byte copy keeps it.
    const odd = text.replace(firstDelta, `${firstDelta}\nid: 42`);
    const out = await throughNode("responses", pieces(Buffer.from(odd), [13]));
    expect(out).toContain(`${firstDelta}\nid: 42\n\n`);
  });

  it("chat deltas with escapes, multi-byte text split across chunks and a spaced field come out as on the web path", async () => {
    const text = fixtureText("text-answer.sse")
      .replace('"delta":"The capital"', '"delta":"Th\\"e \\\\ \\"capital\\" 🇫🇷 é"')
      .replace('"delta":" of France"', '"delta": " of France"');
    const expected = parseSse(await throughWeb("chat", text));
    const content = expected
      .filter((e) => e.data.startsWith("{"))
      .map(
        (e) =>
          (JSON.parse(e.data) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ?? "",
      )
      .join("");
    expect(content).toContain('Th"e \\ "capital" 🇫🇷 é of France');
    for (const sizes of [[1], [3, 5], [1 << 20]]) {
      expect(parseSse(await throughNode("chat", pieces(Buffer.from(text), sizes)))).toEqual(expected);
    }
  });

  it("copes with CRLF line ends by leaving the framing to the parser", async () => {
    const text = fixtureText("function-call.sse");
    const expected = parseSse(await throughWeb("responses", text));
    const crlf = Buffer.from(text.replace(/\n/g, "\r\n"));
    expect(parseSse(await throughNode("responses", pieces(crlf, [5, 300])))).toEqual(expected);
  });

  it("relays a last frame that has no blank line after it", async () => {
    const text = fixtureText("text-answer.sse").trimEnd();
    const expected = parseSse(await throughWeb("responses", text));
    expect(expected.at(-1)?.event).toBe("response.completed");
    expect(parseSse(await throughNode("responses", pieces(Buffer.from(text), [31])))).toEqual(expected);
  });

  it("after the terminal event reads the body to its end, so the upstream socket can be reused, and gives up after maxWait", async () => {
    const lingering = async (endAfterMs: number, maxWaitMs: number) => {
      const message = new PassThrough();
      let aborted = false;
      const reader = new NodeEventReader(message as unknown as IncomingMessage, 5000, () => (aborted = true));
      message.write(fixtureText("text-answer.sse"));
      for (let raw = await reader.next(); raw && raw.type !== "response.completed"; raw = await reader.next());
      const timer = setTimeout(() => message.end("\n"), endAfterMs);
      const started = Date.now();
      await reader.drain(maxWaitMs);
      clearTimeout(timer);
      return { aborted, destroyed: message.destroyed, waitedMs: Date.now() - started };
    };
    const ends = await lingering(100, 2000);
    expect(ends).toMatchObject({ aborted: false });
    expect(ends.waitedMs).toBeGreaterThanOrEqual(90);
    const lingers = await lingering(5000, 150);
    expect(lingers).toMatchObject({ aborted: true, destroyed: true });
    expect(lingers.waitedMs).toBeLessThan(1000);
  });
});
