/**
 * Upstream events (test/fixtures/*.sse) → Anthropic stream events and
 * messages, checked event by event against the order Anthropic's API uses.
 */
import { describe, expect, it } from "vitest";
import type { UpstreamEvent } from "../../src/codex/events.js";
import { ProxyError } from "../../src/core/errors.js";
import { toAnthropicError } from "../../src/translate/anthropic/errors.js";
import {
  aggregateAnthropicMessage,
  AnthropicStreamTranslator,
  type AnthropicResponseOptions,
} from "../../src/translate/anthropic/response.js";
import { restoreReasoning } from "../../src/translate/anthropic/signature.js";
import { shortenToolName } from "../../src/translate/tool-names.js";
import { fixtureEvents } from "../helpers/fixtures.js";

const base: AnthropicResponseOptions = {
  id: "msg_0123",
  model: "claude-sonnet-4-5",
  thinking: true,
  toolNames: new Map(),
};

interface SseEvent {
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: event JSON that tests index into freely
  data: any;
}

function parse(sse: string): SseEvent[] {
  return sse
    .split("\n\n")
    .filter(Boolean)
    .map((frame) => {
      const [eventLine, dataLine] = frame.split("\n");
      expect(eventLine).toMatch(/^event: /);
      const data = JSON.parse(dataLine!.slice(6));
      expect(data.type).toBe(eventLine!.slice(7));
      return { event: eventLine!.slice(7), data };
    });
}

function stream(events: UpstreamEvent[], options: Partial<AnthropicResponseOptions> = {}): SseEvent[] {
  const translator = new AnthropicStreamTranslator({ ...base, ...options });
  return parse(events.map((e) => translator.push(e)).join("") + translator.end());
}

/** A compact picture of the event order: one letter-ish token per event. */
function shape(events: SseEvent[]): string[] {
  return events.map(({ event, data }) => {
    if (event === "content_block_start") return `start:${data.content_block.type}`;
    if (event === "content_block_delta") return data.delta.type;
    if (event === "content_block_stop") return "stop";
    return event;
  });
}

/** The structural rule: every block is started, gets deltas on its own index, and stops before the next. */
function checkOrder(events: SseEvent[]): void {
  expect(events[0]!.event).toBe("message_start");
  let open: number | undefined;
  let next = 0;
  for (const { event, data } of events) {
    if (event === "content_block_start") {
      expect(open).toBeUndefined();
      expect(data.index).toBe(next++);
      open = data.index;
    } else if (event === "content_block_delta") expect(data.index).toBe(open);
    else if (event === "content_block_stop") {
      expect(data.index).toBe(open);
      open = undefined;
    } else if (event === "message_delta") expect(open).toBeUndefined();
  }
}

describe("AnthropicStreamTranslator", () => {
  it("reasoning summary → a thinking block with its signature, then the text block", async () => {
    const events = stream(await fixtureEvents("reasoning-then-text.sse"));
    checkOrder(events);
    expect(shape(events)).toEqual([
      "message_start",
      "ping",
      "start:thinking",
      ...Array(4).fill("thinking_delta"),
      "thinking_delta", // the paragraph break
      ...Array(3).fill("thinking_delta"),
      "signature_delta",
      "stop",
      "start:text",
      "text_delta",
      "text_delta",
      "stop",
      "message_delta",
      "message_stop",
    ]);
    const thinking = events
      .filter((e) => e.data.delta?.type === "thinking_delta")
      .map((e) => e.data.delta.thinking)
      .join("");
    expect(thinking).toContain("**Checking the arithmetic**");
    expect(thinking).toContain("= 408.\n\n**Double-checking**");
    const signature = events.find((e) => e.data.delta?.type === "signature_delta")!.data.delta.signature;
    expect(restoreReasoning({ type: "thinking", thinking, signature })?.encrypted_content).toMatch(/^gAAAA/);
    const text = events
      .filter((e) => e.data.delta?.type === "text_delta")
      .map((e) => e.data.delta.text)
      .join("");
    expect(text).toBe("17 × 24 = **408**.");
    const start = events[0]!.data.message;
    expect(start).toMatchObject({ id: "msg_0123", type: "message", role: "assistant", model: "claude-sonnet-4-5" });
    expect(events.at(-2)!.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { input_tokens: 44, output_tokens: 215, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  });

  it("a tool call → a tool_use block with input_json_delta; no empty thinking block before it", async () => {
    const events = stream(await fixtureEvents("function-call.sse"));
    checkOrder(events);
    expect(shape(events).filter((s) => s !== "input_json_delta")).toEqual([
      "message_start",
      "ping",
      "start:tool_use",
      "stop",
      "message_delta",
      "message_stop",
    ]);
    const start = events.find((e) => e.event === "content_block_start")!.data.content_block;
    expect(start).toEqual({ type: "tool_use", id: "call_Qm3vT8xYp2LkR7nD5sWe1HcZ", name: "get_weather", input: {} });
    const json = events
      .filter((e) => e.data.delta?.type === "input_json_delta")
      .map((e) => e.data.delta.partial_json)
      .join("");
    expect(JSON.parse(json)).toEqual({ city: "Paris", unit: "c" });
    expect(events.at(-2)!.data.delta.stop_reason).toBe("tool_use");
  });

  it("commentary and two parallel calls: text block, then one tool_use block each", async () => {
    const events = stream(await fixtureEvents("parallel-function-calls.sse"));
    checkOrder(events);
    expect(shape(events).filter((s) => s.startsWith("start:"))).toEqual([
      "start:text",
      "start:tool_use",
      "start:tool_use",
    ]);
  });

  it("restores shortened tool names", async () => {
    const long = `mcp__server__${"x".repeat(80)}`;
    const raw = await fixtureEvents("function-call.sse");
    const renamed = JSON.parse(JSON.stringify(raw).replaceAll('"get_weather"', JSON.stringify(shortenToolName(long))));
    const events = stream(renamed, { toolNames: new Map([[shortenToolName(long), long]]) });
    expect(events.find((e) => e.event === "content_block_start")!.data.content_block.name).toBe(long);
  });

  it("thinking off: no thinking blocks", async () => {
    const events = stream(await fixtureEvents("reasoning-then-text.sse"), { thinking: false });
    expect(shape(events).filter((s) => s.startsWith("start:"))).toEqual(["start:text"]);
  });

  it("a failure after the start is an error event, never a message_stop", async () => {
    const events = stream(await fixtureEvents("response-failed.sse"));
    expect(events.at(-1)!.event).toBe("error");
    expect(events.at(-1)!.data.error.type).toBe("invalid_request_error");
    expect(events.at(-1)!.data.error.message).toMatch(/prompt is too long/);
    expect(events.some((e) => e.event === "message_stop")).toBe(false);
  });

  it("a stream cut short ends in an error event", async () => {
    const all = await fixtureEvents("reasoning-then-text.sse");
    const events = stream(all.slice(0, 8));
    expect(events.at(-1)!.data).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect(events.some((e) => e.event === "message_delta")).toBe(false);
  });

  it("cached tokens become cache_read_input_tokens", () => {
    const events = stream([
      { type: "response.created", response: {} },
      {
        type: "response.completed",
        response: { usage: { input_tokens: 100, input_tokens_details: { cached_tokens: 60 }, output_tokens: 7 } },
      },
    ]);
    expect(events.at(-2)!.data.usage).toEqual({
      input_tokens: 40,
      output_tokens: 7,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 60,
    });
  });

  it("max_output_tokens → stop_reason max_tokens", () => {
    const events = stream([
      { type: "response.created", response: {} },
      { type: "response.incomplete", response: { incomplete_details: { reason: "max_output_tokens" } } },
    ]);
    expect(events.at(-2)!.data.delta.stop_reason).toBe("max_tokens");
  });
});

describe("aggregateAnthropicMessage", () => {
  it("builds thinking and text blocks", async () => {
    const message = aggregateAnthropicMessage(await fixtureEvents("reasoning-then-text.sse"), base);
    expect(message).toMatchObject({
      id: "msg_0123",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      stop_reason: "end_turn",
      stop_sequence: null,
    });
    const content = message.content as Array<Record<string, unknown>>;
    expect(content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect(content[0]!.signature).toMatch(/^codex-proxy\.1\.gAAAA/);
    expect(content[1]!.text).toBe("17 × 24 = **408**.");
  });

  it("builds tool_use blocks with parsed input and no empty thinking block", async () => {
    const message = aggregateAnthropicMessage(await fixtureEvents("function-call.sse"), base);
    const content = message.content as Array<Record<string, unknown>>;
    expect(content.map((b) => b.type)).toEqual(["tool_use"]);
    expect(content[0]).toMatchObject({ id: "call_Qm3vT8xYp2LkR7nD5sWe1HcZ", name: "get_weather" });
    expect(typeof content[0]!.input).toBe("object");
    expect(message.stop_reason).toBe("tool_use");
  });
});

describe("errors in the Anthropic shape", () => {
  it.each([
    [new ProxyError(400, "bad", { param: "messages" }), 400, "invalid_request_error"],
    [new ProxyError(401, "no key"), 401, "authentication_error"],
    [new ProxyError(403, "plan"), 403, "permission_error"],
    [new ProxyError(404, "none"), 404, "not_found_error"],
    [new ProxyError(413, "big"), 413, "request_too_large"],
    [new ProxyError(429, "limit", { headers: { "retry-after": "30" } }), 429, "rate_limit_error"],
    [new ProxyError(502, "Codex backend failed: boom", { code: "upstream_error" }), 502, "api_error"],
    [new ProxyError(502, "x", { code: "server_is_overloaded" }), 529, "overloaded_error"],
    [new ProxyError(503, "Codex backend error (HTTP 503): slow_down"), 529, "overloaded_error"],
    [new ProxyError(503, "Could not reach the Codex backend", { code: "upstream_unreachable" }), 503, "api_error"],
    [new ProxyError(503, "no API key configured", { code: "api_key_not_configured" }), 503, "api_error"],
  ])("%s → %i %s", (error, status, type) => {
    const mapped = toAnthropicError(error);
    expect(mapped.status).toBe(status);
    expect(mapped.body).toEqual({ type: "error", error: { type, message: expect.any(String) } });
    expect(mapped.headers).toBe(error.headers);
  });
});
