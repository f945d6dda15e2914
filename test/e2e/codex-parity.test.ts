/**
 * Keeping up with the Codex backend and its clients (docs/protocol.md §11),
 * through the real server against the fake backend, driven by real clients:
 * the OpenAI Agents SDK, the openai SDK and raw HTTP shaped like the Codex CLI.
 */
import { Agent, OpenAIProvider, Runner, setTracingDisabled } from "@openai/agents";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { weeklyOnlyRateLimitHeaders } from "../fake/codex-parity.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers that the tests index into freely
type Json = Record<string, any>;

let backend: FakeCodexBackend;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  setTracingDisabled(true);
  backend = await startFakeCodexBackend();
  proxy = await startTestProxy({ codexBaseUrl: backend.url });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close(100);
  await backend?.close();
});
beforeEach(() => backend.reset());

function upstreamResponses() {
  return backend.requests.filter((r) => r.method === "POST" && r.path.endsWith("/responses"));
}

describe("efforts", () => {
  it("runs an OpenAI Agents SDK agent on the Responses model: its default effort `none` is clamped", async () => {
    // The SDK's default settings for gpt-5.x send reasoning.effort "none", which the backend refuses.
    const provider = new OpenAIProvider({ apiKey: "unused", baseURL: proxy.baseURL, useResponses: true });
    const runner = new Runner({ modelProvider: provider });
    const agent = new Agent({
      name: "helper",
      instructions: "Answer briefly.",
      model: "gpt-5.5",
      modelSettings: { reasoning: { effort: "none" } },
    });
    const result = await runner.run(agent, "Say hello");
    expect(result.finalOutput).toBe("Echo: Say hello");
    const sent = upstreamResponses().at(-1)!;
    expect(sent.body.reasoning.effort).toBe("low");
    expect(sent.body.instructions).toBe("Answer briefly.");
  });

  it("turns `max` into the model's highest effort and keeps an explicit effort over a suffix", async () => {
    await client.responses.create({ model: "gpt-5.5", input: "x", reasoning: { effort: "max" as "high" } });
    expect(upstreamResponses().at(-1)!.body.reasoning.effort).toBe("xhigh");
    await client.responses.create({ model: "gpt-5.6-sol-max", input: "x", reasoning: { effort: "medium" } });
    expect(upstreamResponses().at(-1)!.body.reasoning.effort).toBe("medium");
    await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "x" }],
      reasoning_effort: "none",
    });
    expect(upstreamResponses().at(-1)!.body.reasoning.effort).toBe("low");
  });
});

describe("service_tier", () => {
  it("accepts fast as an alias of priority (the backend refuses fast)", async () => {
    const response = await client.responses.create({
      model: "gpt-5.5",
      input: "x",
      service_tier: "fast" as "priority",
    });
    expect(response.output_text).toBe("Echo: x");
    expect(upstreamResponses().at(-1)!.body.service_tier).toBe("priority");
    await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "x" }],
      service_tier: "priority",
    });
    expect(upstreamResponses().at(-1)!.body.service_tier).toBe("priority");
  });
});

describe("compaction", () => {
  const history = [
    { type: "message", role: "user", content: [{ type: "input_text", text: "Write a parser." }] },
    { type: "message", role: "assistant", content: [{ type: "output_text", text: "Here it is." }] },
    { type: "message", role: "user", content: [{ type: "input_text", text: "Now test it." }] },
  ];

  it("runs POST /v1/responses/compact as a /responses request ending in the trigger, answering {output}", async () => {
    // The body the Codex CLI sends to {base}/responses/compact.
    const res = await fetch(`${proxy.baseURL}/responses/compact`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-5.5",
        instructions: "You are Codex.",
        input: history,
        tools: [],
        parallel_tool_calls: false,
        reasoning: { effort: "none", summary: "auto" },
        prompt_cache_key: "thread-1",
      }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { object: string; output: Array<Record<string, unknown>> };
    expect(answer.object).toBe("response.compaction");
    const compaction = answer.output.at(-1)!;
    expect(compaction.type).toBe("compaction");
    expect(compaction.encrypted_content).toEqual(expect.any(String));
    // The user messages are kept before the compaction item; the assistant's turn is inside it.
    expect(answer.output.slice(0, -1)).toEqual([history[0], history[2]]);

    const sent = upstreamResponses().at(-1)!;
    expect(sent.path).toBe("/backend-api/codex/responses");
    expect(sent.body.input.at(-1)).toEqual({ type: "compaction_trigger" });
    expect(sent.body.input).toHaveLength(4);
    expect(sent.body).toMatchObject({ stream: true, store: false, reasoning: { effort: "low" } });

    // The next turn replays the compaction item: it reaches the backend untouched.
    const next = await client.responses.create({
      model: "gpt-5.5",
      input: [...answer.output, { role: "user", content: "Continue." }] as unknown as OpenAI.Responses.ResponseInput,
    });
    expect(next.output_text).toBe("Echo: Continue.");
    expect(upstreamResponses().at(-1)!.body.input[2]).toEqual(compaction);
  });

  it("answers a 502 naming the problem when the backend sends no compaction item", async () => {
    backend.enqueue({ kind: "text", text: "not a compaction" });
    const res = await fetch(`${proxy.baseURL}/responses/compact`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", input: history }),
    });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("compaction_missing");
  });
});

describe("usage windows, identified by their length", () => {
  it("serves /v1/usage and the Codex usage endpoints from the last seen headers", async () => {
    await client.responses.create({ model: "gpt-5.5", input: "x" });
    const own = (await (await fetch(`${proxy.baseURL}/usage`)).json()) as {
      rate_limits: { windows: Array<{ label: string; windowMinutes: number; usedPercent: number }> };
    };
    expect(own.rate_limits.windows.map((w) => [w.label, w.windowMinutes, w.usedPercent])).toEqual([
      ["5-hour", 300, 12.5],
      ["weekly", 10080, 40],
    ]);
    for (const path of ["/api/codex/usage", "/backend-api/wham/usage", "/v1/api/codex/usage"]) {
      const res = await fetch(`${proxy.url}${path}`);
      expect(res.status, path).toBe(200);
      const usage = (await res.json()) as Json;
      expect(usage.plan_type).toBe("plus");
      expect(usage.rate_limit).toMatchObject({
        allowed: true,
        limit_reached: false,
        primary_window: { used_percent: 13, limit_window_seconds: 18_000 },
        secondary_window: { used_percent: 40, limit_window_seconds: 604_800 },
      });
      expect(Number.isInteger(usage.rate_limit.primary_window.reset_after_seconds)).toBe(true);
      expect(usage.credits).toEqual({ has_credits: false, unlimited: false, balance: null });
    }
  });

  it("names the weekly window right when it arrives alone in the primary slot, and blocks when it is used up", async () => {
    const weekly = await startFakeCodexBackend({ rateLimitHeaders: weeklyOnlyRateLimitHeaders(100) });
    const keyed = await startTestProxy({ codexBaseUrl: weekly.url, env: { PROXY_API_KEY: "usage-key-123456" } });
    const auth = { authorization: "Bearer usage-key-123456" };
    try {
      weekly.enqueue({
        kind: "http",
        status: 429,
        body: JSON.stringify({ error: { type: "usage_limit_reached", message: "The usage limit has been reached" } }),
      });
      const limited = await fetch(`${keyed.baseURL}/responses`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-5.5", input: "x" }),
      });
      expect(limited.status).toBe(429);
      expect(((await limited.json()) as { error: { message: string } }).error.message).toMatch(/weekly window used up/);

      const own = (await (await fetch(`${keyed.baseURL}/usage`, { headers: auth })).json()) as Json;
      expect(own.rate_limits.windows).toEqual([expect.objectContaining({ label: "weekly", windowMinutes: 10080 })]);

      expect((await fetch(`${keyed.url}/api/codex/usage`)).status).toBe(401);
      const usage = (await (await fetch(`${keyed.url}/backend-api/wham/usage`, { headers: auth })).json()) as Json;
      expect(usage.rate_limit).toEqual({
        allowed: false,
        limit_reached: true,
        primary_window: expect.objectContaining({ used_percent: 100, limit_window_seconds: 604_800 }),
      });
    } finally {
      await keyed.close(100);
      await weekly.close();
    }
  });
});

describe("conversation headers", () => {
  it("forwards the client's own session-id, thread-id and x-client-request-id", async () => {
    const res = await fetch(`${proxy.baseURL}/responses`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "session-id": "sess-from-client",
        "thread-id": "thread-from-client",
        "x-client-request-id": "req-from-client",
      },
      body: JSON.stringify({ model: "gpt-5.5", input: "x", prompt_cache_key: "cache-key" }),
    });
    expect(res.status).toBe(200);
    const sent = upstreamResponses().at(-1)!;
    expect(sent.headers["session-id"]).toBe("sess-from-client");
    expect(sent.headers["thread-id"]).toBe("thread-from-client");
    expect(sent.headers["x-client-request-id"]).toBe("req-from-client");
    expect(sent.headers.session_id).toBeUndefined();
  });

  it("fills them from the conversation key when the client sends none (not the old session_id)", async () => {
    await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }] });
    const sent = upstreamResponses().at(-1)!;
    const key = sent.body.prompt_cache_key as string;
    expect(key).toEqual(expect.any(String));
    expect(sent.headers["session-id"]).toBe(key);
    expect(sent.headers["thread-id"]).toBe(key);
    expect(sent.headers["x-client-request-id"]).toBe(key);
    expect(sent.headers.session_id).toBeUndefined();
  });
});

describe("server_is_overloaded inside a 200 stream", () => {
  const overloaded = { kind: "failed", code: "server_is_overloaded", message: "Our servers are busy." } as const;

  it("is retried like a 5xx when it comes before any output, on both routes", async () => {
    backend.enqueue(overloaded, { kind: "text", text: "after the retry" });
    const response = await client.responses.create({ model: "gpt-5.5", input: "x" });
    expect(response.output_text).toBe("after the retry");
    expect(upstreamResponses()).toHaveLength(2);

    backend.enqueue(overloaded, { kind: "text", text: "streamed after the retry" });
    const stream = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("streamed after the retry");
    expect(upstreamResponses()).toHaveLength(4);
  });

  it("gives up after the retry budget with the backend's message", async () => {
    backend.enqueue(overloaded, overloaded, overloaded, { kind: "text", text: "never reached" });
    const res = await fetch(`${proxy.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", input: "x" }),
    });
    expect(res.status).toBe(502);
    expect(((await res.json()) as Json).error.message).toMatch(/Our servers are busy/);
    expect(upstreamResponses()).toHaveLength(3);
  });
});

describe("the fields rule", () => {
  it("passes unknown fields through on /v1/responses and drops the ones the backend refuses", async () => {
    await fetch(`${proxy.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-5.5",
        input: [
          { role: "user", content: "x" },
          { type: "message", role: "assistant", phase: "final_answer", content: [{ type: "output_text", text: "y" }] },
          { role: "user", content: "z" },
        ],
        reasoning: { effort: "low", context: "auto" },
        temperature: 0.2,
        max_output_tokens: 100,
      }),
    });
    const sent = upstreamResponses().at(-1)!;
    expect(sent.body.input[1].phase).toBe("final_answer");
    expect(sent.body.reasoning.context).toBe("auto");
    expect(sent.body.temperature).toBeUndefined();
    expect(sent.body.max_output_tokens).toBeUndefined();
  });
});

describe("GET /v1/models", () => {
  it("answers the Codex-native catalogue when the client sends client_version, else the OpenAI list", async () => {
    const native = (await (await fetch(`${proxy.baseURL}/models?client_version=0.171.0`)).json()) as Json;
    expect(native.object).toBeUndefined();
    const slugs = native.models.map((m: Json) => m.slug);
    expect(slugs).toContain("gpt-5.5");
    const sol = native.models.find((m: Json) => m.slug === "gpt-5.6-sol");
    // The backend's entry as it came, fields the proxy does not read included.
    expect(sol).toMatchObject({ display_name: "GPT-5.6 Sol", context_window: 272000, default_reasoning_level: "low" });

    const list = (await (await fetch(`${proxy.baseURL}/models`)).json()) as Json;
    expect(list.object).toBe("list");
    expect(list.data.map((m: Json) => m.id)).toContain("gpt-5.5");
  });
});

describe("legacy functions / function_call in chat", () => {
  const functions = [
    {
      name: "get_weather",
      description: "Weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
    { name: "get_time", parameters: { type: "object", properties: {} } },
  ];

  it("answers in the legacy shape and honours a forced function_call", async () => {
    backend.enqueue({ kind: "tool_calls", calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }] });
    const completion = (await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      functions,
      function_call: { name: "get_weather" },
    })) as unknown as Json;
    const choice = completion.choices[0];
    expect(choice.finish_reason).toBe("function_call");
    expect(choice.message.function_call).toEqual({ name: "get_weather", arguments: '{"city":"Paris"}' });
    expect(choice.message.tool_calls).toBeUndefined();
    const sent = upstreamResponses().at(-1)!;
    expect(sent.body.tool_choice).toEqual({ type: "function", name: "get_weather" });
    expect(sent.body.parallel_tool_calls).toBe(false);

    // The second turn: the assistant's function_call and the function's answer.
    await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: null, function_call: choice.message.function_call },
        { role: "function", name: "get_weather", content: "sunny" },
      ],
      functions,
    });
    const second = upstreamResponses().at(-1)!;
    expect(second.body.tool_choice).toBe("auto");
    const call = second.body.input.find((item: Json) => item.type === "function_call");
    const output = second.body.input.find((item: Json) => item.type === "function_call_output");
    expect(call).toMatchObject({ name: "get_weather", arguments: '{"city":"Paris"}' });
    expect(output).toMatchObject({ call_id: call.call_id, output: "sunny" });
  });

  it("streams the legacy delta.function_call", async () => {
    backend.enqueue({ kind: "tool_calls", calls: [{ name: "get_time", arguments: '{"tz":"UTC"}' }] });
    const stream = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "Time?" }],
      functions,
      function_call: "auto",
      stream: true,
    });
    let name = "";
    let args = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as Json | undefined;
      if (delta?.function_call?.name) name += delta.function_call.name;
      if (delta?.function_call?.arguments) args += delta.function_call.arguments;
      expect(delta?.tool_calls).toBeUndefined();
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe("get_time");
    expect(args).toBe('{"tz":"UTC"}');
    expect(finish).toBe("function_call");
  });
});

describe("web search", () => {
  it("maps chat web_search_options to the hosted tool and returns the citations as annotations", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "What do lighthouses do?" }],
      web_search_options: {
        search_context_size: "high",
        user_location: { type: "approximate", approximate: { country: "FR", city: "Brest" } },
      },
    });
    const message = completion.choices[0]!.message;
    expect(message.content).toContain("Lighthouses guide ships.");
    expect(message.annotations).toEqual([
      {
        type: "url_citation",
        url_citation: {
          url: "https://example.com/lighthouses",
          title: "Lighthouses of the world",
          start_index: 0,
          end_index: 11,
        },
      },
    ]);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    const sent = upstreamResponses().at(-1)!;
    expect(sent.body.tools).toEqual([
      {
        type: "web_search",
        search_context_size: "high",
        user_location: { type: "approximate", country: "FR", city: "Brest" },
      },
    ]);
  });

  it("streams the annotations on the chat route", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "Lighthouses?" }],
      web_search_options: {},
      stream: true,
    });
    const annotations: unknown[] = [];
    let text = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as Json | undefined;
      text += delta?.content ?? "";
      if (delta?.annotations) annotations.push(...delta.annotations);
      expect(delta?.tool_calls).toBeUndefined();
    }
    expect(text).toContain("Lighthouses guide ships.");
    expect(annotations).toEqual([expect.objectContaining({ type: "url_citation" })]);
  });

  it("passes a web_search tool through on /v1/responses, with the call and the citation in the output", async () => {
    const response = await client.responses.create({
      model: "gpt-5.5",
      input: "Lighthouses?",
      tools: [{ type: "web_search" }],
    });
    expect(response.output.map((item) => item.type)).toEqual(["web_search_call", "message"]);
    const part = (response.output[1] as OpenAI.Responses.ResponseOutputMessage).content[0] as Json;
    expect(part.annotations[0]).toMatchObject({ type: "url_citation", url: "https://example.com/lighthouses" });
    expect(upstreamResponses().at(-1)!.body.tools).toEqual([{ type: "web_search" }]);
  });
});
