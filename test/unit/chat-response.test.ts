import { describe, expect, it } from "vitest";
import type { UpstreamEvent } from "../../src/codex/events.js";
import {
  aggregateChatCompletion,
  ChatStreamTranslator,
  type ChatResponseOptions,
} from "../../src/translate/chat-response.js";
import { shortenToolName } from "../../src/translate/tool-names.js";
import { chatDataLines, fixtureEvents, fixtureText } from "../helpers/fixtures.js";

const base: ChatResponseOptions = {
  id: "chatcmpl-7d2b6e0f9a4c1b3e0168b2d5",
  created: 1787650300,
  model: "gpt-5.5",
  includeUsage: true,
  reasoningOutput: "reasoning_content",
  toolNames: new Map(),
};

function translate(events: UpstreamEvent[], options: Partial<ChatResponseOptions> = {}, end = true): string {
  const translator = new ChatStreamTranslator({ ...base, ...options });
  let out = events.map((e) => translator.push(e)).join("");
  if (end) out += translator.end();
  return out;
}

type Chunk = {
  choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>;
  usage?: Record<string, unknown>;
  error?: Record<string, unknown>;
};

function chunks(sse: string): Chunk[] {
  return chatDataLines(sse).filter((d): d is Chunk => d !== "[DONE]");
}

function contentOf(sse: string, field = "content"): string {
  return chunks(sse)
    .flatMap((c) => c.choices ?? [])
    .map((c) => (typeof c.delta[field] === "string" ? (c.delta[field] as string) : ""))
    .join("");
}

describe("ChatStreamTranslator", () => {
  it("renders function-call.sse exactly as function-call.chat-chunks.sse", async () => {
    const out = translate(await fixtureEvents("function-call.sse"));
    expect(chatDataLines(out)).toEqual(chatDataLines(fixtureText("function-call.chat-chunks.sse")));
  });

  it("streams text, finishes with stop and reports usage with cached and reasoning tokens", async () => {
    const events = await fixtureEvents("text-answer.sse");
    const out = translate(events);
    const done = events.find((e) => e.type === "response.output_text.done");
    expect(contentOf(out)).toBe(done?.text);
    const all = chunks(out);
    expect(all[0]!.choices[0]!.delta).toEqual({ role: "assistant" });
    expect(all.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    const usage = all.at(-1)!.usage!;
    expect(usage.prompt_tokens_details).toBeDefined();
    expect(usage.completion_tokens_details).toBeDefined();
    expect(out.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("sends reasoning summaries as reasoning_content with a paragraph break between parts", async () => {
    const events = await fixtureEvents("reasoning-then-text.sse");
    const reasoning = contentOf(translate(events), "reasoning_content");
    const parts = events.filter((e) => e.type === "response.reasoning_summary_text.done").map((e) => e.text);
    expect(parts).toHaveLength(2);
    expect(reasoning).toBe(parts.join("\n\n"));
  });

  it("wraps reasoning in <think> tags when asked, closing the tag before the answer", async () => {
    const events = await fixtureEvents("reasoning-then-text.sse");
    const content = contentOf(translate(events, { reasoningOutput: "think-tags" }));
    expect(content.startsWith("<think>")).toBe(true);
    const answer = events.find((e) => e.type === "response.output_text.done")!.text!;
    expect(content.endsWith(`</think>${answer}`)).toBe(true);
    expect(contentOf(translate(events, { reasoningOutput: "off" }))).toBe(answer);
    expect(contentOf(translate(events, { reasoningOutput: "off" }), "reasoning_content")).toBe("");
  });

  it("gives parallel calls indexes 0 and 1, keeps the preamble text, and maps argument deltas by item id", async () => {
    const events = await fixtureEvents("parallel-function-calls.sse");
    const out = chunks(translate(events));
    const calls = new Map<number, { id?: string; name?: string; args: string }>();
    for (const chunk of out) {
      for (const call of (chunk.choices[0]?.delta.tool_calls as Array<{
        index: number;
        id?: string;
        function?: { name?: string; arguments?: string };
      }>) ?? []) {
        const entry = calls.get(call.index) ?? { args: "" };
        if (call.id) entry.id = call.id;
        if (call.function?.name) entry.name = call.function.name;
        entry.args += call.function?.arguments ?? "";
        calls.set(call.index, entry);
      }
    }
    const upstreamCalls = events
      .filter((e) => e.type === "response.output_item.done" && e.item?.type === "function_call")
      .map((e) => e.item!);
    expect([...calls.keys()]).toEqual([0, 1]);
    expect(calls.get(0)).toEqual({
      id: upstreamCalls[0]!.call_id,
      name: upstreamCalls[0]!.name,
      args: upstreamCalls[0]!.arguments,
    });
    expect(calls.get(1)).toEqual({
      id: upstreamCalls[1]!.call_id,
      name: upstreamCalls[1]!.name,
      args: upstreamCalls[1]!.arguments,
    });
    expect(contentOf(translate(events)).length).toBeGreaterThan(0);
    expect(out.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("turns response.failed into a final error chunk with context_length_exceeded", async () => {
    const out = translate(await fixtureEvents("response-failed.sse"));
    const error = chunks(out).find((c) => c.error)!.error!;
    expect(error.code).toBe("context_length_exceeded");
    expect(out.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(out).not.toContain('"finish_reason":"stop"');
  });

  it("turns a top-level error event into a final error chunk", async () => {
    const error = chunks(translate(await fixtureEvents("error-event.sse"))).find((c) => c.error)!.error!;
    expect(error.code).toBe("rate_limit_exceeded");
    expect(String(error.message)).toContain("try again in 2.4s");
  });

  it("reports a stream that ends without a terminal event as an error, not a finish", async () => {
    const events = (await fixtureEvents("text-answer.sse")).filter((e) => e.type !== "response.completed");
    const out = translate(events);
    expect(chunks(out).at(-1)!.error!.code).toBe("stream_incomplete");
    expect(out).not.toContain('"finish_reason"' + ':"stop"');
  });

  it("maps response.incomplete to finish_reason length or content_filter", () => {
    const make = (reason: string): UpstreamEvent[] => [
      { type: "response.output_text.delta", delta: "par" },
      {
        type: "response.incomplete",
        response: { incomplete_details: { reason }, usage: { input_tokens: 1, output_tokens: 2 } },
      },
    ];
    expect(translate(make("max_output_tokens"))).toContain('"finish_reason":"length"');
    expect(translate(make("content_filter"))).toContain('"finish_reason":"content_filter"');
  });

  it("emits a whole call at output_item.done when its added event was missed, and restores shortened names", () => {
    const long = "mcp__very_long_server_name_for_testing__and_an_even_longer_tool_name_that_goes_on";
    const short = shortenToolName(long);
    expect(short.length).toBeLessThanOrEqual(64);
    const out = translate(
      [
        {
          type: "response.output_item.done",
          output_index: 0,
          item: { id: "fc_1", type: "function_call", call_id: "call_1", name: short, arguments: '{"a":1}' },
        },
        { type: "response.completed", response: { usage: { input_tokens: 1, output_tokens: 1 } } },
      ],
      { toolNames: new Map([[short, long]]) },
    );
    const call = (
      chunks(out)[1]!.choices[0]!.delta.tool_calls as Array<{ function: { name: string; arguments: string } }>
    )[0]!;
    expect(call.function).toEqual({ name: long, arguments: '{"a":1}' });
  });

  it("omits the usage chunk unless include_usage was asked", async () => {
    const out = translate(await fixtureEvents("text-answer.sse"), { includeUsage: false });
    expect(out).not.toContain('"usage"');
  });
});

describe("aggregateChatCompletion", () => {
  it("builds a chat.completion from a text answer", async () => {
    const events = await fixtureEvents("text-answer.sse");
    const completion = aggregateChatCompletion(events, base) as {
      choices: Array<{ message: Record<string, unknown>; finish_reason: string }>;
      usage: Record<string, number>;
    };
    expect(completion.choices[0]!.message.content).toBe(
      events.find((e) => e.type === "response.output_text.done")!.text,
    );
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage.total_tokens).toBeGreaterThan(0);
  });

  it("returns content null and tool_calls for a tool-only turn", async () => {
    const completion = aggregateChatCompletion(await fixtureEvents("function-call.sse"), base) as {
      choices: Array<{ message: Record<string, unknown>; finish_reason: string }>;
    };
    expect(completion.choices[0]!.message.content).toBeNull();
    expect(completion.choices[0]!.message.tool_calls).toEqual([
      {
        id: "call_Qm3vT8xYp2LkR7nD5sWe1HcZ",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' },
      },
    ]);
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("carries reasoning_content", async () => {
    const completion = aggregateChatCompletion(await fixtureEvents("reasoning-then-text.sse"), base) as {
      choices: Array<{ message: Record<string, unknown> }>;
    };
    expect(String(completion.choices[0]!.message.reasoning_content)).toContain("\n\n");
  });

  it("throws the mapped error for failures and for a stream without a terminal event", async () => {
    expect(() =>
      aggregateChatCompletion(
        [{ type: "response.failed", response: { error: { code: "context_length_exceeded", message: "too long" } } }],
        base,
      ),
    ).toThrowError(/too long/);
    expect(() => aggregateChatCompletion([{ type: "response.output_text.delta", delta: "x" }], base)).toThrowError(
      /before the response completed/,
    );
  });
});
