/**
 * The Anthropic request translator against requests Claude Code 2.1 really
 * sent (test/fixtures/anthropic/claude-code-turn*.request.json) and the
 * shapes the official SDK sends.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FALLBACK_MODELS } from "../../src/codex/models.js";
import { loadConfig, readConfig } from "../../src/core/config.js";
import { ProxyError } from "../../src/core/errors.js";
import {
  anthropicEffort,
  toResponsesRequestFromAnthropic,
  type AnthropicTranslationContext,
} from "../../src/translate/anthropic/request.js";
import { signatureFor } from "../../src/translate/anthropic/signature.js";
import { shortenToolName } from "../../src/translate/tool-names.js";
import { FIXTURES } from "../helpers/fixtures.js";

const ctx: AnthropicTranslationContext = { models: FALLBACK_MODELS, defaultModel: "gpt-5.5", modelMap: {} };

// biome-ignore lint/suspicious/noExplicitAny: recorded JSON that tests index into freely
function recorded(name: string): { headers: Record<string, string>; body: any } {
  return JSON.parse(readFileSync(new URL(`anthropic/${name}.request.json`, FIXTURES), "utf8"));
}

function translate(body: Record<string, unknown>, extra: Partial<AnthropicTranslationContext> = {}) {
  return toResponsesRequestFromAnthropic(body, { ...ctx, ...extra });
}

function rejection(body: Record<string, unknown>): ProxyError {
  try {
    translate(body);
  } catch (error) {
    if (error instanceof ProxyError) return error;
    throw error;
  }
  throw new Error("expected a 400");
}

const user = (content: unknown) => ({ role: "user", content });

describe("Claude Code's recorded requests", () => {
  it("turn 1: system blocks become instructions, the in-conversation system message a developer message", () => {
    const { headers, body } = recorded("claude-code-turn1");
    const out = translate(body, { sessionId: headers["x-claude-code-session-id"] });
    const sent = out.body as { instructions: string; input: Array<Record<string, unknown>>; tools: unknown[] };
    expect(out.model).toBe("gpt-5.6-sol"); // claude-opus-* → the strongest listed model
    expect(out.requestedModel).toBe("claude-opus-5-5");
    expect(out.stream).toBe(true);
    expect(sent.instructions.startsWith("You are a Claude agent")).toBe(true);
    expect(sent.instructions).not.toContain("x-anthropic-billing-header");
    expect(sent.input.map((i) => i.role)).toEqual(["user", "developer"]);
    expect((sent.input[0]!.content as unknown[]).length).toBe(2);
    expect(JSON.stringify(sent.input[1])).toContain("# Environment");
    expect(sent.tools).toHaveLength(body.tools.length);
    expect(JSON.stringify(sent.tools)).not.toContain("defer_loading");
    expect(JSON.stringify(sent.tools)).not.toContain("$schema");
    expect(JSON.stringify(out.body)).not.toContain("cache_control");
    expect(JSON.stringify(out.body)).not.toContain("context_management");
    // output_config.effort "medium" wins over the opus default of high.
    expect(out.body.reasoning).toEqual({ effort: "medium", summary: "auto" });
    expect(out.promptCacheKey).toBe(headers["x-claude-code-session-id"]);
    expect(out.body.prompt_cache_key).toBe(headers["x-claude-code-session-id"]);
  });

  it("turn 2: the tool_use / tool_result pair becomes function_call / function_call_output", () => {
    const { body } = recorded("claude-code-turn2");
    const input = translate(body).body.input as Array<Record<string, unknown>>;
    expect(input.map((i) => i.type ?? i.role)).toEqual([
      "message",
      "message",
      "message",
      "function_call",
      "function_call_output",
    ]);
    expect(input[2]).toEqual({
      type: "message",
      role: "assistant",
      content: [{ type: "output_text", text: "Running it." }],
    });
    expect(input[3]).toEqual({
      type: "function_call",
      call_id: "toolu_01",
      name: "Bash",
      arguments: JSON.stringify({ command: "echo hi", description: "Print hi" }),
    });
    expect(input[4]).toEqual({ type: "function_call_output", call_id: "toolu_01", output: "hi" });
    // The recorded signature is not one of ours: no reasoning item is invented from it.
    expect(input.some((i) => i.type === "reasoning")).toBe(false);
  });

  it("without the session header, metadata.user_id's session id is the cache key", () => {
    const { body } = recorded("claude-code-turn1");
    const session = JSON.parse(body.metadata.user_id).session_id;
    expect(translate(body).promptCacheKey).toBe(session);
  });
});

describe("content blocks", () => {
  it("text and images (base64 and URL)", () => {
    const out = translate({
      model: "gpt-5.5",
      max_tokens: 100,
      messages: [
        user([
          { type: "text", text: "What is this?" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        ]),
      ],
    });
    expect(out.body.input).toEqual([
      {
        type: "message",
        role: "user",
        content: [
          { type: "input_text", text: "What is this?" },
          { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=" },
          { type: "input_image", image_url: "https://example.com/cat.jpg" },
        ],
      },
    ]);
  });

  it("tool results: errors are marked, images are kept in a list", () => {
    const out = translate({
      model: "gpt-5.5",
      messages: [
        user("go"),
        {
          role: "assistant",
          content: [
            { type: "tool_use", id: "toolu_a", name: "Read", input: { path: "x" } },
            { type: "tool_use", id: "toolu_b", name: "Screenshot", input: {} },
          ],
        },
        user([
          { type: "tool_result", tool_use_id: "toolu_a", content: "no such file", is_error: true },
          {
            type: "tool_result",
            tool_use_id: "toolu_b",
            content: [
              { type: "text", text: "here" },
              { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/" } },
            ],
          },
          { type: "text", text: "and now?" },
        ]),
      ],
    });
    const input = out.body.input as Array<Record<string, unknown>>;
    expect(input[3]).toEqual({ type: "function_call_output", call_id: "toolu_a", output: "Error: no such file" });
    expect(input[4]).toEqual({
      type: "function_call_output",
      call_id: "toolu_b",
      output: [
        { type: "input_text", text: "here" },
        { type: "input_image", image_url: "data:image/jpeg;base64,/9j/" },
      ],
    });
    expect(input[5]).toEqual({ type: "message", role: "user", content: [{ type: "input_text", text: "and now?" }] });
  });

  it("a thinking block we signed comes back as the reasoning item before what it produced", () => {
    const out = translate({
      model: "gpt-5.5",
      messages: [
        user("weather?"),
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "Need the tool.", signature: signatureFor("gAAAA-secret") },
            { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
          ],
        },
        user([{ type: "tool_result", tool_use_id: "call_1", content: "sunny" }]),
      ],
    });
    const input = out.body.input as Array<Record<string, unknown>>;
    expect(input[1]).toEqual({
      type: "reasoning",
      summary: [{ type: "summary_text", text: "Need the tool." }],
      encrypted_content: "gAAAA-secret",
    });
    expect(input[2]!.type).toBe("function_call");
  });

  it("accepts and drops cache_control, redacted thinking, server tools and sampling knobs", () => {
    const out = translate({
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      temperature: 0.2,
      top_k: 5,
      stop_sequences: ["END"],
      context_management: { edits: [] },
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      tools: [
        { type: "web_search_20250305", name: "web_search" },
        { name: "Tool", input_schema: { type: "object" }, cache_control: { type: "ephemeral" }, defer_loading: true },
      ],
      messages: [
        user("a"),
        {
          role: "assistant",
          content: [
            { type: "redacted_thinking", data: "xyz" },
            { type: "text", text: "b" },
          ],
        },
        user([{ type: "text", text: "c", cache_control: { type: "ephemeral" } }]),
      ],
    });
    expect(out.model).toBe("gpt-5.5");
    expect(out.body.instructions).toBe("Be brief.");
    expect(out.body.tools).toEqual([
      { type: "function", name: "Tool", parameters: { type: "object", properties: {} }, strict: false },
    ]);
    for (const dropped of ["temperature", "top_k", "stop_sequences", "max_tokens", "max_output_tokens"])
      expect(out.body).not.toHaveProperty(dropped);
  });
});

describe("tools and tool_choice", () => {
  const tools = [{ name: "get_weather", description: "Weather", input_schema: { type: "object", properties: {} } }];
  const base = { model: "gpt-5.5", messages: [user("hi")], tools };

  it("maps auto / any / tool / none and disable_parallel_tool_use", () => {
    expect(translate({ ...base }).body).toMatchObject({ tool_choice: "auto", parallel_tool_calls: true });
    expect(translate({ ...base, tool_choice: { type: "any" } }).body.tool_choice).toBe("required");
    expect(translate({ ...base, tool_choice: { type: "none" } }).body.tool_choice).toBe("none");
    expect(
      translate({ ...base, tool_choice: { type: "tool", name: "get_weather", disable_parallel_tool_use: true } }).body,
    ).toMatchObject({ tool_choice: { type: "function", name: "get_weather" }, parallel_tool_calls: false });
  });

  it("shortens names the backend refuses and remembers the original", () => {
    const long = `mcp__${"a-very-long-server-name".repeat(3)}__do_the_thing`;
    const out = translate({ ...base, tools: [{ name: long, input_schema: { type: "object" } }] });
    const short = shortenToolName(long);
    expect(short.length).toBeLessThanOrEqual(64);
    expect((out.body.tools as Array<{ name: string }>)[0]!.name).toBe(short);
    expect(out.toolNames.get(short)).toBe(long);
  });
});

describe("thinking and effort", () => {
  const base = { model: "gpt-5.5", messages: [user("hi")] };
  it("budget_tokens becomes an effort", () => {
    expect(translate({ ...base, thinking: { type: "enabled", budget_tokens: 1024 } }).body.reasoning).toEqual({
      effort: "low",
      summary: "auto",
    });
    expect(translate({ ...base, thinking: { type: "enabled", budget_tokens: 32000 } }).body.reasoning).toMatchObject({
      effort: "xhigh",
    });
  });

  it("efforts the model lacks are clamped to the nearest it has", () => {
    const gpt55 = FALLBACK_MODELS.find((m) => m.slug === "gpt-5.5")!;
    expect(anthropicEffort("max", gpt55)).toBe("xhigh");
    expect(anthropicEffort("minimal", gpt55)).toBe("low");
    // Beyond the shared rules (which would refuse it), an unlisted effort takes the nearest one.
    expect(anthropicEffort("ultra", gpt55)).toBe("xhigh");
    expect(anthropicEffort("high", undefined)).toBe("high");
    expect(translate({ ...base, output_config: { effort: "max" } }).body.reasoning).toMatchObject({ effort: "xhigh" });
    expect(translate({ ...base, model: "gpt-5.6-sol", output_config: { effort: "max" } }).body.reasoning).toMatchObject(
      { effort: "max" },
    );
  });

  it("disabled thinking asks for the lowest effort and no summaries", () => {
    const out = translate({ ...base, thinking: { type: "disabled" } });
    expect(out.body.reasoning).toEqual({ effort: "low" });
    expect(out.thinking).toBe(false);
  });
});

describe("model names", () => {
  it("maps Claude families by default: opus → strongest at high, sonnet → default, haiku → small", () => {
    const models = (name: string) => translate({ model: name, messages: [user("x")] });
    expect(models("claude-opus-4-1").body).toMatchObject({ model: "gpt-5.6-sol", reasoning: { effort: "high" } });
    expect(models("claude-sonnet-4-5").model).toBe("gpt-5.5");
    expect(models("claude-haiku-4-5-20251001").model).toBe("gpt-5.4-mini");
    expect(models("claude-3-5-haiku-latest").model).toBe("gpt-5.4-mini");
    expect(models("gpt-5.4").model).toBe("gpt-5.4");
    expect(models("gpt-5.5-high").body).toMatchObject({ model: "gpt-5.5", reasoning: { effort: "high" } });
  });

  it("follows ANTHROPIC_MODEL_MAP", () => {
    const modelMap = loadConfig({
      ANTHROPIC_MODEL_MAP: "opus=gpt-5.5:xhigh, sonnet=gpt-5.4,haiku=gpt-5.4-mini",
    }).anthropicModelMap;
    const out = translate({ model: "claude-opus-5-5", messages: [user("x")] }, { modelMap });
    expect(out.body).toMatchObject({ model: "gpt-5.5", reasoning: { effort: "xhigh" } });
    expect(translate({ model: "claude-sonnet-5-5", messages: [user("x")] }, { modelMap }).model).toBe("gpt-5.4");
    expect(readConfig({ ANTHROPIC_MODEL_MAP: "opus,haiku=gpt-5.4-mini" }).problems).toEqual([
      { variable: "ANTHROPIC_MODEL_MAP", message: expect.stringContaining('"opus" is not a family=model pair') },
    ]);
  });
});

describe("bad input is a 400 that names the field", () => {
  it.each([
    [{ messages: [user("x")] }, "model"],
    [{ model: "gpt-5.5", messages: "hi" }, "messages"],
    [{ model: "gpt-5.5", messages: [{ role: "tool", content: "x" }] }, "messages[0].role"],
    [
      { model: "gpt-5.5", messages: [user([{ type: "image", source: { type: "file", file_id: "f" } }])] },
      "messages[0].content[0].source.type",
    ],
    [
      { model: "gpt-5.5", messages: [user([{ type: "tool_result", tool_use_id: "nope", content: "x" }])] },
      "messages[0].content[0].tool_use_id",
    ],
    [{ model: "gpt-5.5", max_tokens: -1, messages: [user("x")] }, "max_tokens"],
    [{ model: "gpt-5.5", thinking: { type: "enabled" }, messages: [user("x")] }, "thinking.budget_tokens"],
    [{ model: "gpt-5.5", tool_choice: { type: "sometimes" }, messages: [user("x")] }, "tool_choice.type"],
    [
      {
        model: "gpt-5.5",
        messages: [
          user("x"),
          { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "A", input: {} }] },
          user("y"),
        ],
      },
      "messages[2].content",
    ],
  ])("%j → %s", (body, param) => {
    const error = rejection(body as Record<string, unknown>);
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
  });
});
