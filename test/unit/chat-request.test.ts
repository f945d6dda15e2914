import { describe, expect, it } from "vitest";
import { FALLBACK_MODELS } from "../../src/codex/models.js";
import { ProxyError } from "../../src/core/errors.js";
import { toResponsesRequest } from "../../src/translate/chat-request.js";

const ctx = { models: FALLBACK_MODELS, defaultModel: "gpt-5.5" };
const user = (content: unknown) => ({ role: "user", content });

function rejects(raw: unknown): ProxyError {
  try {
    toResponsesRequest(raw, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ProxyError);
    expect((error as ProxyError).status).toBe(400);
    return error as ProxyError;
  }
  throw new Error("expected a 400");
}

describe("toResponsesRequest", () => {
  it("works for the README's Quick start example without a model", () => {
    const t = toResponsesRequest({ messages: [user("Hello!")] }, ctx);
    expect(t.model).toBe("gpt-5.5");
    expect(t.stream).toBe(false);
    expect(t.body).toMatchObject({
      model: "gpt-5.5",
      instructions: "",
      store: false,
      stream: true,
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "Hello!" }] }],
      reasoning: { effort: "medium", summary: "auto" },
      include: ["reasoning.encrypted_content"],
    });
  });

  it("moves system and developer messages into instructions, never into input", () => {
    const t = toResponsesRequest(
      {
        messages: [
          { role: "system", content: "A" },
          { role: "developer", content: [{ type: "text", text: "B" }] },
          user("q"),
        ],
      },
      ctx,
    );
    expect(t.body.instructions).toBe("A\n\nB");
    expect(JSON.stringify(t.body.input)).not.toContain('"system"');
  });

  it("maps images (https and data URLs) without fetching them", () => {
    const t = toResponsesRequest(
      {
        messages: [
          user([
            { type: "text", text: "what?" },
            { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "low" } },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ]),
        ],
      },
      ctx,
    );
    expect((t.body.input as Array<{ content: unknown[] }>)[0]!.content).toEqual([
      { type: "input_text", text: "what?" },
      { type: "input_image", image_url: "https://example.com/a.png", detail: "low" },
      { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=" },
    ]);
  });

  it("turns a tool loop into paired function_call / function_call_output items in order", () => {
    const t = toResponsesRequest(
      {
        messages: [
          user("weather?"),
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "c1", type: "function", function: { name: "w", arguments: '{"city":"A"}' } },
              { id: "c2", type: "function", function: { name: "w", arguments: '{"city":"B"}' } },
            ],
          },
          { role: "tool", tool_call_id: "c1", content: "sunny" },
          { role: "tool", tool_call_id: "c2", content: [{ type: "text", text: "rain" }] },
        ],
        tools: [
          {
            type: "function",
            function: { name: "w", parameters: { type: "object", properties: { city: { type: "string" } } } },
          },
        ],
      },
      ctx,
    );
    expect(t.body.input).toEqual([
      { type: "message", role: "user", content: [{ type: "input_text", text: "weather?" }] },
      { type: "function_call", call_id: "c1", name: "w", arguments: '{"city":"A"}' },
      { type: "function_call", call_id: "c2", name: "w", arguments: '{"city":"B"}' },
      { type: "function_call_output", call_id: "c1", output: "sunny" },
      { type: "function_call_output", call_id: "c2", output: "rain" },
    ]);
    expect(t.body).toMatchObject({ tool_choice: "auto", parallel_tool_calls: true });
  });

  it("flattens tools, defaults parameters, shortens long names and maps tool_choice", () => {
    const long = "x".repeat(80);
    const t = toResponsesRequest(
      {
        messages: [user("hi")],
        tools: [
          { type: "function", function: { name: "a" } },
          { type: "function", function: { name: long, parameters: { type: "object" } } },
        ],
        tool_choice: { type: "function", function: { name: long } },
        parallel_tool_calls: false,
      },
      ctx,
    );
    const tools = t.body.tools as Array<{ name: string; parameters: unknown }>;
    expect(tools[0]).toEqual({
      type: "function",
      name: "a",
      parameters: { type: "object", properties: {} },
      strict: false,
    });
    expect(tools[1]!.name.length).toBeLessThanOrEqual(64);
    expect(tools[1]!.parameters).toEqual({ type: "object", properties: {} });
    expect(t.toolNames.get(tools[1]!.name)).toBe(long);
    expect(t.body.tool_choice).toEqual({ type: "function", name: tools[1]!.name });
    expect(t.body.parallel_tool_calls).toBe(false);
  });

  it("maps response_format json_object and strict json_schema", () => {
    expect(
      toResponsesRequest({ messages: [user("x")], response_format: { type: "json_object" } }, ctx).body.text,
    ).toEqual({ format: { type: "json_object" } });
    const schema = { type: "object", properties: { a: { type: "object", properties: { b: { type: "string" } } } } };
    const t = toResponsesRequest(
      {
        messages: [user("x")],
        response_format: { type: "json_schema", json_schema: { name: "out", strict: true, schema } },
      },
      ctx,
    );
    expect(t.body.text).toEqual({
      format: {
        type: "json_schema",
        name: "out",
        strict: true,
        schema: {
          type: "object",
          additionalProperties: false,
          properties: { a: { type: "object", additionalProperties: false, properties: { b: { type: "string" } } } },
        },
      },
    });
    expect(schema).not.toHaveProperty("additionalProperties");
  });

  it("checks reasoning_effort against the model and resolves effort suffixes", () => {
    expect(
      toResponsesRequest({ model: "gpt-5.5", messages: [user("x")], reasoning_effort: "high" }, ctx).body.reasoning,
    ).toEqual({ effort: "high", summary: "auto" });
    expect(toResponsesRequest({ model: "gpt-5.5-xhigh", messages: [user("x")] }, ctx).body.reasoning).toEqual({
      effort: "xhigh",
      summary: "auto",
    });
    expect(
      toResponsesRequest({ model: "gpt-5.5", messages: [user("x")], reasoning_effort: "minimal" }, ctx).body.reasoning,
    ).toEqual({ effort: "low", summary: "auto" });
    const error = rejects({ model: "gpt-5.5", messages: [user("x")], reasoning_effort: "ultra" });
    expect(error.param).toBe("reasoning_effort");
    expect(error.message).toContain("low, medium, high, xhigh");
  });

  it("drops parameters the backend rejects and honours include_usage locally", () => {
    const t = toResponsesRequest(
      {
        messages: [user("x")],
        max_tokens: 5,
        max_completion_tokens: 5,
        temperature: 0,
        top_p: 1,
        presence_penalty: 0,
        frequency_penalty: 0,
        seed: 1,
        user: "u",
        logprobs: false,
        metadata: {},
        store: true,
        stream: true,
        stream_options: { include_usage: true },
        n: 1,
      },
      ctx,
    );
    for (const field of [
      "max_tokens",
      "max_completion_tokens",
      "temperature",
      "top_p",
      "presence_penalty",
      "frequency_penalty",
      "seed",
      "user",
      "logprobs",
      "metadata",
      "stream_options",
      "n",
    ]) {
      expect(t.body).not.toHaveProperty(field);
    }
    expect(t.body.store).toBe(false);
    expect(t.includeUsage).toBe(true);
    expect(t.stream).toBe(true);
  });

  it("derives a stable prompt_cache_key from the conversation's start", () => {
    const first = toResponsesRequest({ messages: [{ role: "system", content: "S" }, user("start")] }, ctx);
    const second = toResponsesRequest(
      {
        messages: [{ role: "system", content: "S" }, user("start"), { role: "assistant", content: "a" }, user("more")],
      },
      ctx,
    );
    const other = toResponsesRequest({ messages: [{ role: "system", content: "S" }, user("different")] }, ctx);
    expect(first.promptCacheKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(second.promptCacheKey).toBe(first.promptCacheKey);
    expect(other.promptCacheKey).not.toBe(first.promptCacheKey);
    expect(first.body.prompt_cache_key).toBe(first.promptCacheKey);
    expect(toResponsesRequest({ messages: [user("x")], prompt_cache_key: "mine" }, ctx).promptCacheKey).toBe("mine");
  });

  it("rejects what the OpenAI API rejects, naming the field", () => {
    expect(rejects({}).param).toBe("messages");
    expect(rejects({ messages: [] }).param).toBe("messages");
    expect(rejects({ messages: "hi" }).param).toBe("messages");
    expect(rejects({ messages: [{ role: "user" }] }).param).toBe("messages[0].content");
    expect(rejects({ messages: [{ role: "robot", content: "x" }] }).param).toBe("messages[0].role");
    expect(rejects({ messages: [user(5)] }).param).toBe("messages[0].content");
    expect(rejects({ messages: [user([{ type: "image_url", image_url: {} }])] }).param).toBe(
      "messages[0].content[0].image_url.url",
    );
    expect(rejects({ messages: [user("x"), { role: "tool", content: "r" }] }).param).toBe("messages[1].tool_call_id");
    expect(rejects({ messages: [user("x"), { role: "tool", tool_call_id: "nope", content: "r" }] }).param).toBe(
      "messages[1].tool_call_id",
    );
    expect(
      rejects({
        messages: [
          user("x"),
          { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
          user("y"),
        ],
      }).message,
    ).toContain("c1");
    expect(rejects({ messages: [user("x")], n: 2 }).param).toBe("n");
    expect(rejects({ messages: [user("x")], tools: [{ type: "function" }] }).param).toBe("tools[0].function");
    expect(
      rejects({ messages: [user("x")], tools: [{ type: "function", function: { name: "f", parameters: "no" } }] })
        .param,
    ).toBe("tools[0].function.parameters");
    expect(
      rejects({
        messages: [user("x")],
        tools: [{ type: "function", function: { name: "f" } }],
        tool_choice: "sometimes",
      }).param,
    ).toBe("tool_choice");
    expect(rejects({ messages: [user("x")], response_format: { type: "yaml" } }).param).toBe("response_format.type");
    expect(rejects({ messages: [user("x")], model: 42 }).param).toBe("model");
    expect(rejects({ messages: [user("x")], stream: "yes" }).param).toBe("stream");
  });
});
