import { describe, expect, it } from "vitest";
import { FALLBACK_MODELS } from "../../src/codex/models.js";
import { ProxyError } from "../../src/core/errors.js";
import { normaliseResponsesRequest } from "../../src/translate/responses-request.js";

const ctx = { models: FALLBACK_MODELS, defaultModel: "gpt-5.5" };

function paramOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProxyError);
    expect((error as ProxyError).status).toBe(400);
    return (error as ProxyError).param;
  }
  throw new Error("expected a 400");
}

describe("normaliseResponsesRequest", () => {
  it("wraps a string input, forces stream/store and always sends instructions", () => {
    const { body, stream, model } = normaliseResponsesRequest({ input: "hi" }, ctx);
    expect(model).toBe("gpt-5.5");
    expect(stream).toBe(false);
    expect(body).toMatchObject({ model: "gpt-5.5", instructions: "", stream: true, store: false });
    expect(body.input).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }]);
  });

  it("turns system items into developer items and string content into parts", () => {
    const { body } = normaliseResponsesRequest(
      {
        input: [
          { role: "system", content: "rules" },
          { role: "assistant", content: "earlier" },
          { type: "message", role: "user", content: [{ type: "input_text", text: "q" }] },
        ],
      },
      ctx,
    );
    expect(body.input).toEqual([
      { type: "message", role: "developer", content: [{ type: "input_text", text: "rules" }] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "earlier" }] },
      { type: "message", role: "user", content: [{ type: "input_text", text: "q" }] },
    ]);
  });

  it("strips the parameters the backend rejects", () => {
    const { body } = normaliseResponsesRequest(
      {
        input: "x",
        temperature: 1,
        top_p: 1,
        max_output_tokens: 5,
        user: "u",
        truncation: "auto",
        stream_options: {},
        safety_identifier: "s",
        prompt_cache_retention: "24h",
        service_tier: "default",
      },
      ctx,
    );
    for (const field of [
      "temperature",
      "top_p",
      "max_output_tokens",
      "user",
      "truncation",
      "stream_options",
      "safety_identifier",
      "prompt_cache_retention",
      "service_tier",
    ]) {
      expect(body).not.toHaveProperty(field);
    }
    expect(normaliseResponsesRequest({ input: "x", service_tier: "priority" }, ctx).body.service_tier).toBe("priority");
  });

  it("flattens chat-style tools and keeps flat ones", () => {
    const { body } = normaliseResponsesRequest(
      {
        input: "x",
        tools: [
          { type: "function", function: { name: "a", parameters: { type: "object", properties: {} } } },
          { type: "function", name: "b", parameters: {} },
          { type: "web_search" },
        ],
      },
      ctx,
    );
    expect(body.tools).toEqual([
      {
        type: "function",
        name: "a",
        description: undefined,
        parameters: { type: "object", properties: {} },
        strict: false,
      },
      { type: "function", name: "b", parameters: {} },
      { type: "web_search" },
    ]);
  });

  it("resolves an effort suffix into reasoning.effort and asks for encrypted reasoning", () => {
    const { body, model } = normaliseResponsesRequest({ model: "gpt-5.5-high", input: "x" }, ctx);
    expect(model).toBe("gpt-5.5");
    expect(body.reasoning).toEqual({ effort: "high" });
    expect(body.include).toEqual(["reasoning.encrypted_content"]);
  });

  it("keeps the client's prompt_cache_key and reports it as the session id", () => {
    expect(normaliseResponsesRequest({ input: "x", prompt_cache_key: "k1" }, ctx).sessionId).toBe("k1");
  });

  it("rejects wrong types with a 400 naming the field", () => {
    expect(paramOf(() => normaliseResponsesRequest({ input: 5 }, ctx))).toBe("input");
    expect(paramOf(() => normaliseResponsesRequest({ input: [5] }, ctx))).toBe("input[0]");
    expect(paramOf(() => normaliseResponsesRequest({ input: [{ role: "user", content: 5 }] }, ctx))).toBe(
      "input[0].content",
    );
    expect(paramOf(() => normaliseResponsesRequest({ input: "x", model: 5 }, ctx))).toBe("model");
    expect(paramOf(() => normaliseResponsesRequest({ input: "x", tools: {} }, ctx))).toBe("tools");
    expect(
      paramOf(() => normaliseResponsesRequest({ input: "x", tools: [{ type: "function", function: {} }] }, ctx)),
    ).toBe("tools[0].function.name");
    expect(paramOf(() => normaliseResponsesRequest({ input: "x", instructions: 5 }, ctx))).toBe("instructions");
    expect(paramOf(() => normaliseResponsesRequest({ input: "x", previous_response_id: "resp_1" }, ctx))).toBe(
      "previous_response_id",
    );
    expect(paramOf(() => normaliseResponsesRequest({ input: "x", stream: "yes" }, ctx))).toBe("stream");
  });
});
