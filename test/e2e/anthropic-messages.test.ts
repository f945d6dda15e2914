/**
 * The Anthropic Messages front through the real server against the fake
 * backend, driven by the official @anthropic-ai/sdk: create and stream, tool
 * loops, thinking across turns, images, count_tokens, models, and every
 * error class the SDK maps.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let backend: FakeCodexBackend;
let proxy: TestProxy;
let keyed: TestProxy;
let client: Anthropic;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
  proxy = await startTestProxy({ codexBaseUrl: backend.url });
  keyed = await startTestProxy({ codexBaseUrl: backend.url, env: { PROXY_API_KEY: "sk-proxy-test" } });
  client = new Anthropic({ baseURL: proxy.url, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close(100);
  await keyed?.close(100);
  await backend?.close();
});
beforeEach(() => backend.reset());

// biome-ignore lint/suspicious/noExplicitAny: the upstream request bodies, indexed freely
const sentBodies = (): any[] => backend.requests.filter((r) => r.path.endsWith("/responses")).map((r) => r.body);

const JSON_TYPE = { "content-type": "application/json" };

const weatherTool: Anthropic.Tool = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

describe("POST /v1/messages", () => {
  it("creates a message, echoing the model asked for, with usage", async () => {
    backend.enqueue({
      kind: "text",
      text: "Bonjour!",
      usage: { input_tokens: 30, cached_tokens: 20, output_tokens: 5 },
    });
    const message = await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      system: "Speak French.",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(message.type).toBe("message");
    expect(message.model).toBe("claude-sonnet-4-5");
    expect(message.content).toEqual([{ type: "text", text: "Bonjour!" }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 20 });
    expect(sentBodies()[0]).toMatchObject({ model: "gpt-5.5", instructions: "Speak French." });
  });

  it("streams with messages.stream(): thinking with a signature, then text", async () => {
    backend.enqueue({ kind: "text", text: "one two three", deltaCount: 3, reasoningSummary: ["Counting."] });
    const stream = client.messages.stream({
      model: "claude-opus-4-1",
      max_tokens: 1024,
      thinking: { type: "enabled", budget_tokens: 4096 },
      messages: [{ role: "user", content: "count" }],
    });
    const types: string[] = [];
    stream.on("streamEvent", (event) => types.push(event.type));
    let text = "";
    stream.on("text", (delta) => (text += delta));
    const message = await stream.finalMessage();
    expect(text).toBe("one two three");
    expect(types[0]).toBe("message_start");
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(message.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    const thinking = message.content[0] as Anthropic.ThinkingBlock;
    expect(thinking.thinking).toBe("Counting.");
    expect(thinking.signature.length).toBeGreaterThan(20);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    // opus → the strongest model; budget 4096 → medium effort.
    expect(sentBodies()[0]).toMatchObject({ model: "gpt-5.6-sol", reasoning: { effort: "medium", summary: "auto" } });
  });

  it("runs a streaming tool loop, sending thinking back so the reasoning item is restored", async () => {
    backend.enqueue(
      {
        kind: "tool_calls",
        calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }],
        reasoningSummary: ["I should call the tool."],
      },
      { kind: "text", text: "It is sunny in Paris." },
    );
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
    const first = await client.messages
      .stream({ model: "claude-sonnet-4-5", max_tokens: 1024, tools: [weatherTool], messages })
      .finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
    const call = first.content[1] as Anthropic.ToolUseBlock;
    expect(call).toMatchObject({ name: "get_weather", input: { city: "Paris" } });

    messages.push({ role: "assistant", content: first.content });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "sunny" }] });
    const second = await client.messages
      .stream({ model: "claude-sonnet-4-5", max_tokens: 1024, tools: [weatherTool], messages })
      .finalMessage();
    expect(second.content).toEqual([{ type: "text", text: "It is sunny in Paris." }]);

    const input = sentBodies()[1].input;
    expect(input.map((i: { type: string }) => i.type)).toEqual([
      "message",
      "reasoning",
      "function_call",
      "function_call_output",
    ]);
    expect(input[1].encrypted_content).toMatch(/^gAAAA/);
    expect(input[1].summary).toEqual([{ type: "summary_text", text: "I should call the tool." }]);
    expect(input[2]).toMatchObject({ call_id: call.id, name: "get_weather", arguments: '{"city":"Paris"}' });
    expect(input[3]).toEqual({ type: "function_call_output", call_id: call.id, output: "sunny" });
  });

  it("runs a non-streaming tool loop with tool_choice any and an error result", async () => {
    backend.enqueue(
      { kind: "tool_calls", calls: [{ name: "get_weather", arguments: '{"city":"Oslo"}' }] },
      { kind: "text", text: "The tool failed." },
    );
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather in Oslo?" }];
    const first = await client.messages.create({
      model: "gpt-5.5",
      max_tokens: 256,
      tools: [weatherTool],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      messages,
    });
    // No summary: no (empty, signature-only) thinking block before the tool_use.
    expect(first.content.map((b) => b.type)).toEqual(["tool_use"]);
    const call = first.content[0] as Anthropic.ToolUseBlock;
    messages.push({ role: "assistant", content: first.content });
    messages.push({
      role: "user",
      content: [{ type: "tool_result", tool_use_id: call.id, content: "timeout", is_error: true }],
    });
    const second = await client.messages.create({ model: "gpt-5.5", max_tokens: 256, tools: [weatherTool], messages });
    expect(second.content).toEqual([{ type: "text", text: "The tool failed." }]);
    expect(sentBodies()[0]).toMatchObject({ tool_choice: "required", parallel_tool_calls: false });
    expect(sentBodies()[1].input.at(-1)).toEqual({
      type: "function_call_output",
      call_id: call.id,
      output: "Error: timeout",
    });
  });

  it("sends images as input_image", async () => {
    await client.messages.create({
      model: "gpt-5.5",
      max_tokens: 64,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
            { type: "text", text: "Describe." },
          ],
        },
      ],
    });
    expect(sentBodies()[0].input[0].content).toEqual([
      { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=" },
      { type: "input_image", image_url: "https://example.com/a.png" },
      { type: "input_text", text: "Describe." },
    ]);
  });

  it("accepts ?beta=true and Claude Code's betas; the session header is the cache key", async () => {
    const res = await fetch(`${proxy.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
        "x-claude-code-session-id": "7a1d5c1e-0000-4000-8000-000000000001",
      },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    expect(sentBodies()[0]).toMatchObject({
      model: "gpt-5.4-mini",
      prompt_cache_key: "7a1d5c1e-0000-4000-8000-000000000001",
    });
  });
});

describe("POST /v1/messages/count_tokens", () => {
  it("answers input_tokens that grow with the input, without calling the backend", async () => {
    const small = await client.messages.countTokens({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "Hello" }],
    });
    const large = await client.messages.countTokens({
      model: "claude-sonnet-4-5",
      system: "You are terse.",
      tools: [weatherTool],
      messages: [{ role: "user", content: "Hello ".repeat(1000) }],
    });
    expect(small.input_tokens).toBeGreaterThan(0);
    expect(large.input_tokens).toBeGreaterThan(small.input_tokens + 1000);
    expect(sentBodies()).toHaveLength(0);
  });
});

describe("GET /v1/models", () => {
  it("is Anthropic-shaped for Anthropic clients, OpenAI-shaped otherwise", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      expect(model.type).toBe("model");
      ids.push(model.id);
    }
    expect(ids.slice(0, 3)).toEqual(["claude-opus", "claude-sonnet", "claude-haiku"]);
    expect(ids).toContain("gpt-5.5");
    const page = await (
      await fetch(`${proxy.url}/v1/models?limit=2`, { headers: { "anthropic-version": "2023-06-01" } })
    ).json();
    expect(page).toMatchObject({ has_more: true, first_id: "claude-opus", last_id: "claude-sonnet" });
    expect(page.data[0]).toEqual({
      type: "model",
      id: "claude-opus",
      display_name: expect.stringContaining("gpt-5.6-sol"),
      created_at: expect.any(String),
    });
    const byAgent = await (
      await fetch(`${proxy.url}/v1/models`, { headers: { "user-agent": "claude-cli/2.1.332 (external, sdk-cli)" } })
    ).json();
    expect(byAgent.data[0].type).toBe("model");
    const openai = await (await fetch(`${proxy.url}/v1/models`)).json();
    expect(openai.object).toBe("list");
  });
});

describe("errors in the Anthropic shape", () => {
  const create = (overrides: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}, on = client) =>
    on.messages
      .create({ model: "gpt-5.5", max_tokens: 64, messages: [{ role: "user", content: "x" }], ...overrides })
      .catch((e: unknown) => e);

  it("bad input → 400 invalid_request_error naming the field", async () => {
    const error = await create({
      messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "nope" }] }],
    });
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const e = error as InstanceType<typeof Anthropic.BadRequestError>;
    expect(e.type).toBe("invalid_request_error");
    expect(e.message).toContain("messages[0].content[0].tool_use_id");
  });

  it("invalid JSON → 400 in the Anthropic shape", async () => {
    const res = await fetch(`${proxy.url}/v1/messages`, { method: "POST", headers: JSON_TYPE, body: "{nope" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });

  it("a wrong key → 401 authentication_error; x-api-key and Bearer both carry the right one", async () => {
    const wrong = new Anthropic({ baseURL: keyed.url, apiKey: "wrong", maxRetries: 0 });
    expect(await create({}, wrong)).toBeInstanceOf(Anthropic.AuthenticationError);
    const bearer = new Anthropic({ baseURL: keyed.url, apiKey: "sk-proxy-test", maxRetries: 0 });
    expect((await create({}, bearer)) as Anthropic.Message).toMatchObject({ type: "message" });
    const res = await fetch(`${keyed.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "sk-proxy-test", "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.status).toBe(200);
    const denied = await fetch(`${keyed.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: JSON_TYPE,
      body: "{}",
    });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
  });

  it("a usage limit → 429 rate_limit_error with retry-after", async () => {
    backend.enqueue({
      kind: "http",
      status: 429,
      body: JSON.stringify({ error: { type: "usage_limit_reached", message: "limit", resets_in_seconds: 600 } }),
    });
    const error = await create();
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const e = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(e.type).toBe("rate_limit_error");
    expect(Number(e.headers?.get("retry-after"))).toBeGreaterThan(590);
  });

  it("context too long → 400 with the phrase Claude Code recognises", async () => {
    backend.enqueue({
      kind: "failed",
      code: "context_length_exceeded",
      message: "Your input exceeds the context window.",
    });
    const error = await create();
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toMatch(/prompt is too long/);
  });

  it("an overloaded backend → 529 overloaded_error; another failure → 502 api_error", async () => {
    const overloaded = { kind: "http" as const, status: 503, body: '{"error":{"code":"server_is_overloaded"}}' };
    backend.enqueue(overloaded, overloaded, overloaded);
    const first = (await create()) as InstanceType<typeof Anthropic.APIError>;
    expect(first.status).toBe(529);
    expect(first.type).toBe("overloaded_error");
    const broken = { kind: "http" as const, status: 500, body: '{"error":{"code":"server_error"}}' };
    backend.enqueue(broken, broken, broken);
    const second = (await create()) as InstanceType<typeof Anthropic.APIError>;
    expect(second).toBeInstanceOf(Anthropic.InternalServerError);
    expect(second.status).toBe(502);
    expect(second.type).toBe("api_error");
  });

  it("an overload reported inside the 200 stream, before any output, is retried (streamed and not)", async () => {
    const overloaded = { kind: "failed", code: "server_is_overloaded", message: "Our servers are busy." } as const;
    const upstream = () => backend.requests.filter((r) => r.path.endsWith("/responses"));
    backend.enqueue(overloaded, { kind: "text", text: "after the retry" });
    const message = await client.messages.create({
      model: "gpt-5.5",
      max_tokens: 64,
      messages: [{ role: "user", content: "x" }],
    });
    expect(message.content).toEqual([expect.objectContaining({ type: "text", text: "after the retry" })]);
    expect(upstream()).toHaveLength(2);
    backend.enqueue(overloaded, { kind: "text", text: "streamed after the retry" });
    const stream = client.messages.stream({
      model: "gpt-5.5",
      max_tokens: 64,
      messages: [{ role: "user", content: "x" }],
    });
    expect(await stream.finalText()).toBe("streamed after the retry");
    expect(upstream()).toHaveLength(4);
  });

  it("a stream cut after it began → an error event the SDK raises, never a normal end", async () => {
    backend.enqueue({ kind: "cut", afterDeltas: 2 });
    const stream = client.messages.stream({
      model: "gpt-5.5",
      max_tokens: 64,
      messages: [{ role: "user", content: "x" }],
    });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).type).toBe("api_error");
  });

  it("unknown paths and wrong methods under /v1/messages answer in the Anthropic shape", async () => {
    const missing = await fetch(`${proxy.url}/v1/messages/batches`, { method: "POST", headers: JSON_TYPE, body: "{}" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    const wrongMethod = await fetch(`${proxy.url}/v1/messages`);
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    // Other routes keep the OpenAI shape.
    expect(await (await fetch(`${proxy.url}/v1/nothing`)).json()).toHaveProperty("error.code", "not_found");
  });
});
