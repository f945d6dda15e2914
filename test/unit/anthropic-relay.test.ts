/**
 * The Anthropic relay through both stream pumps (Node's and the web one):
 * the same events however the upstream is chunked, and a `ping` while the
 * upstream is quiet (the interval is shortened; the test waits for the ping
 * itself, not for a time).
 */
import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { UpstreamEventReader } from "../../src/codex/sse.js";
import { NodeEventReader } from "../../src/node/event-reader.js";
import { openEventStream, relayEvents } from "../../src/server/event-relay.js";
import { AnthropicRelay } from "../../src/server/routes/anthropic-messages.js";
import { AnthropicStreamTranslator } from "../../src/translate/anthropic/response.js";
import { fixtureText } from "../helpers/fixtures.js";

const relay = (idleIntervalMs?: number) =>
  new AnthropicRelay(
    new AnthropicStreamTranslator({ id: "msg_test", model: "claude-sonnet-4-5", thinking: true, toolNames: new Map() }),
    idleIntervalMs,
  );

const PING = "event: ping\n";
const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Splits a fixture after its first text (or arguments) delta: the quiet gap goes there. */
function halves(name: string): [string, string] {
  const text = fixtureText(name);
  const textDelta = text.indexOf("response.output_text.delta");
  const at = textDelta >= 0 ? textDelta : text.indexOf("response.function_call_arguments.delta");
  const cut = text.indexOf("\n\n", at) + 2;
  return [text.slice(0, cut), text.slice(cut)];
}

async function throughNode(first: string, rest: string, idleMs?: number): Promise<string> {
  const message = new PassThrough();
  const reader = new NodeEventReader(message as unknown as IncomingMessage, 60_000, () => message.destroy());
  message.write(first);
  const opened = await openEventStream(reader);
  const stream = relayEvents(reader, opened, relay(idleMs), () => {});
  let out = "";
  let sentRest = false;
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    out += decoder.decode(chunk);
    // The rest is written only once a ping beyond the one after message_start went out.
    if (!sentRest && (idleMs === undefined || count(out, PING) >= 2)) {
      sentRest = true;
      message.end(rest);
    }
  }
  return out;
}

async function throughWeb(first: string, rest: string, idleMs?: number): Promise<string> {
  const encoder = new TextEncoder();
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(first));
      await released;
      controller.enqueue(encoder.encode(rest));
      controller.close();
    },
  });
  const reader = new UpstreamEventReader(body, 60_000);
  const opened = await openEventStream(reader);
  const stream = relayEvents(reader, opened, relay(idleMs), () => {});
  let out = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    out += decoder.decode(chunk);
    if (idleMs === undefined || count(out, PING) >= 2) release();
  }
  return out;
}

describe("the Anthropic relay", () => {
  it.each(["reasoning-then-text.sse", "function-call.sse", "parallel-function-calls.sse"])(
    "%s: the Node and web readers give the same events through the one relay",
    async (name) => {
      const [first, rest] = halves(name);
      const node = await throughNode(first, rest);
      const web = await throughWeb(first, rest);
      expect(node).toBe(web);
      expect(node.trimEnd().endsWith('event: message_stop\ndata: {"type":"message_stop"}')).toBe(true);
    },
  );

  it.each([
    ["node", throughNode],
    ["web", throughWeb],
  ])("%s: pings while the upstream is quiet, then finishes normally", async (_name, through) => {
    const [first, rest] = halves("reasoning-then-text.sse");
    const out = await through(first, rest, 5);
    expect(count(out, PING)).toBeGreaterThanOrEqual(2);
    const pingAt = out.indexOf(PING, out.indexOf(PING) + 1);
    // The idle ping sits between two deltas of the same text block.
    expect(out.lastIndexOf("text_delta", pingAt)).toBeGreaterThan(-1);
    expect(out.indexOf("text_delta", pingAt)).toBeGreaterThan(pingAt);
    expect(out.trimEnd().endsWith('data: {"type":"message_stop"}')).toBe(true);
  });
});
