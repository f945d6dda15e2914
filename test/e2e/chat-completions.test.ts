/**
 * /v1/chat/completions through the real server against the fake backend,
 * driven by the clients people use: the openai SDK, the AI SDK's
 * openai-compatible provider, and the README's Quick start curl example.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateObject, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let backend: FakeCodexBackend;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
  proxy = await startTestProxy({ codexBaseUrl: backend.url });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close(100);
  await backend?.close();
});
beforeEach(() => backend.reset());

const sentBodies = () => backend.requests.filter((r) => r.path.endsWith("/responses")).map((r) => r.body);

describe("POST /v1/chat/completions", () => {
  it("answers the README's Quick start curl example as written (no model)", async () => {
    const res = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"messages": [{"role": "user", "content": "Hello!"}]}',
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0].message).toMatchObject({ role: "assistant", content: "Echo: Hello!" });
    expect(body.choices[0].finish_reason).toBe("stop");
    expect(body.model).toBe("gpt-5.5");
    expect(sentBodies()[0].model).toBe("gpt-5.5");
  });

  it("creates a completion with the openai SDK, with usage", async () => {
    backend.enqueue({
      kind: "text",
      text: "Bonjour!",
      usage: { input_tokens: 30, cached_tokens: 20, output_tokens: 5, reasoning_tokens: 2 },
    });
    const completion = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [
        { role: "system", content: "Speak French." },
        { role: "user", content: "Hi" },
      ],
    });
    expect(completion.choices[0]!.message.content).toBe("Bonjour!");
    expect(completion.usage).toMatchObject({
      prompt_tokens: 30,
      completion_tokens: 5,
      total_tokens: 35,
      prompt_tokens_details: { cached_tokens: 20 },
      completion_tokens_details: { reasoning_tokens: 2 },
    });
    expect(sentBodies()[0].instructions).toBe("Speak French.");
  });

  it("streams chunks with the SDK, role first, usage when asked", async () => {
    backend.enqueue({ kind: "text", text: "one two three", deltaCount: 3, reasoningSummary: ["Thinking about it."] });
    const stream = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = "";
    let reasoning = "";
    let usage: unknown;
    let first: unknown;
    for await (const chunk of stream) {
      first ??= chunk.choices[0]?.delta;
      content += chunk.choices[0]?.delta.content ?? "";
      reasoning += (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(first).toEqual({ role: "assistant" });
    expect(content).toBe("one two three");
    expect(reasoning).toBe("Thinking about it.");
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) });
  });

  it("works with the SDK's chat.completions.stream() helper", async () => {
    backend.enqueue({ kind: "text", text: "Helper works." });
    const runner = client.chat.completions.stream({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("Helper works.");
  });

  it("runs a two-turn tool loop with parallel calls", async () => {
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
    ];
    backend.enqueue({
      kind: "tool_calls",
      preamble: "Checking both cities.",
      calls: [
        { name: "get_weather", arguments: '{"city":"Paris"}' },
        { name: "get_weather", arguments: '{"city":"Rome"}' },
      ],
    });
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: "user", content: "Weather in Paris and Rome?" },
    ];
    const first = await client.chat.completions.create({ model: "gpt-5.5", messages, tools, stream: true });
    const calls: Array<{ id: string; name: string; args: string }> = [];
    let finish: string | null = null;
    for await (const chunk of first) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        calls[call.index] ??= { id: "", name: "", args: "" };
        if (call.id) calls[call.index]!.id = call.id;
        if (call.function?.name) calls[call.index]!.name = call.function.name;
        calls[call.index]!.args += call.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(calls.map((c) => JSON.parse(c.args).city)).toEqual(["Paris", "Rome"]);

    messages.push({
      role: "assistant",
      content: "Checking both cities.",
      tool_calls: calls.map((c) => ({
        id: c.id,
        type: "function" as const,
        function: { name: c.name, arguments: c.args },
      })),
    });
    for (const call of calls)
      messages.push({ role: "tool", tool_call_id: call.id, content: `${JSON.parse(call.args).city}: sunny` });
    backend.enqueue({ kind: "text", text: "Both are sunny." });
    const second = await client.chat.completions.create({ model: "gpt-5.5", messages, tools });
    expect(second.choices[0]!.message.content).toBe("Both are sunny.");

    const input = sentBodies()[1].input as Array<{ type: string; call_id?: string }>;
    expect(input.map((i) => i.type)).toEqual([
      "message",
      "message",
      "function_call",
      "function_call",
      "function_call_output",
      "function_call_output",
    ]);
    expect(input[4]!.call_id).toBe(calls[0]!.id);
    expect(sentBodies()[1].prompt_cache_key).toBe(sentBodies()[0].prompt_cache_key);
  });

  it("returns content null and tool_calls when not streaming", async () => {
    backend.enqueue({ kind: "tool_calls", calls: [{ name: "lookup", arguments: '{"q":"x"}' }] });
    const completion = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "look it up" }],
      tools: [
        {
          type: "function",
          function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } },
        },
      ],
    });
    expect(completion.choices[0]!.message.content).toBeNull();
    expect(completion.choices[0]!.message.tool_calls?.[0]).toMatchObject({
      type: "function",
      function: { name: "lookup", arguments: '{"q":"x"}' },
    });
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("passes images through as input_image, data URLs included", async () => {
    backend.enqueue({ kind: "text", text: "A red pixel." });
    const dataUrl =
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    const completion = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: dataUrl } },
          ],
        },
      ],
    });
    expect(completion.choices[0]!.message.content).toBe("A red pixel.");
    expect(sentBodies()[0].input[0].content[1]).toEqual({ type: "input_image", image_url: dataUrl });
  });

  it("turns response_format json_schema into text.format", async () => {
    backend.enqueue({ kind: "text", text: '{"answer":42}' });
    const completion = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "answer" }],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "result",
          strict: true,
          schema: { type: "object", properties: { answer: { type: "number" } }, required: ["answer"] },
        },
      },
    });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ answer: 42 });
    expect(sentBodies()[0].text.format).toMatchObject({ type: "json_schema", name: "result", strict: true });
  });

  it("maps an early in-stream failure to an HTTP error, a later one to a final error chunk", async () => {
    backend.enqueue({
      kind: "failed",
      code: "context_length_exceeded",
      message: "Your input exceeds the context window of this model.",
    });
    const early = await client.chat.completions
      .create({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }], stream: true })
      .catch((e: unknown) => e);
    expect(early).toBeInstanceOf(OpenAI.APIError);
    expect((early as InstanceType<typeof OpenAI.APIError>).status).toBe(400);

    backend.enqueue({ kind: "cut", afterDeltas: 2 });
    const stream = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    const late = await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) return "finished";
      return "ended";
    })().catch((e: unknown) => e);
    expect(late).toBeInstanceOf(OpenAI.APIError);
  });

  it("rejects n > 1 and malformed messages with 400s naming the field", async () => {
    const n = await client.chat.completions
      .create({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }], n: 2 })
      .catch((e: unknown) => e);
    expect((n as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((n as InstanceType<typeof OpenAI.APIError>).param).toBe("n");
    const res = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user" }] }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe("messages[0].content");
  });
});

describe("Vercel AI SDK (openai-compatible provider)", () => {
  const provider = () => createOpenAICompatible({ name: "codex-proxy", baseURL: proxy.baseURL, includeUsage: true });

  it("streams text with tools over several steps", async () => {
    backend.enqueue(
      { kind: "tool_calls", calls: [{ name: "add", arguments: '{"a":2,"b":3}' }] },
      { kind: "text", text: "2 + 3 = 5", deltaCount: 3 },
    );
    const result = streamText({
      model: provider()("gpt-5.5"),
      prompt: "What is 2 + 3? Use the tool.",
      tools: {
        add: tool({
          description: "Adds",
          inputSchema: z.object({ a: z.number(), b: z.number() }),
          execute: async ({ a, b }) => a + b,
        }),
      },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    let text = "";
    for await (const part of result.textStream) text += part;
    expect(text).toBe("2 + 3 = 5");
    const steps = await result.steps;
    expect(steps).toHaveLength(2);
    expect(steps[0]!.toolResults[0]).toMatchObject({ toolName: "add", output: 5 });
    const secondInput = sentBodies()[1].input as Array<{ type: string; output?: string }>;
    expect(secondInput.find((i) => i.type === "function_call_output")?.output).toBe("5");
  });

  it("generates an object with a zod schema", async () => {
    backend.enqueue({ kind: "text", text: '{"name":"Ada","languages":["en","fr"]}' });
    const { object } = await generateObject({
      model: provider()("gpt-5.5"),
      schema: z.object({ name: z.string(), languages: z.array(z.string()) }),
      prompt: "Describe Ada.",
      maxRetries: 0,
    });
    expect(object).toEqual({ name: "Ada", languages: ["en", "fr"] });
    expect(sentBodies()[0].text?.format?.type).toMatch(/json_(object|schema)/);
  });
});
