import { describe, expect, it } from "vitest";
import { clampEffort, FALLBACK_MODELS } from "../../src/codex/models.js";
import { toResponsesRequest } from "../../src/translate/chat-request.js";
import { normaliseResponsesRequest } from "../../src/translate/responses-request.js";

const model = (slug: string) => FALLBACK_MODELS.find((m) => m.slug === slug)!;
const ctx = { models: FALLBACK_MODELS, defaultModel: "gpt-5.5" };
const user = { role: "user", content: "x" };

describe("clampEffort", () => {
  it("keeps a supported effort and passes any effort for a model the catalogue does not know", () => {
    expect(clampEffort("high", model("gpt-5.5"))).toBe("high");
    expect(clampEffort("none", undefined)).toBe("none");
  });

  it("turns none and minimal into the lowest supported effort, max into the highest", () => {
    expect(clampEffort("none", model("gpt-5.5"))).toBe("low");
    expect(clampEffort("minimal", model("gpt-5.6-sol"))).toBe("low");
    expect(clampEffort("max", model("gpt-5.5"))).toBe("xhigh");
    expect(clampEffort("max", model("gpt-5.6-sol"))).toBe("max");
    const onlyHigh = { ...model("gpt-5.5"), reasoningEfforts: ["high", "medium"] };
    expect(clampEffort("none", onlyHigh)).toBe("medium");
    expect(clampEffort("max", onlyHigh)).toBe("high");
  });

  it("refuses other unsupported efforts", () => {
    expect(clampEffort("ultra", model("gpt-5.5"))).toBeUndefined();
    expect(clampEffort("extreme", model("gpt-5.5"))).toBeUndefined();
  });
});

describe("efforts on both routes", () => {
  it("clamps on /v1/responses, where an explicit effort beats a model-name suffix", () => {
    const clamp = (raw: Record<string, unknown>) =>
      normaliseResponsesRequest({ input: "x", ...raw }, ctx).body.reasoning;
    expect(clamp({ model: "gpt-5.5", reasoning: { effort: "none" } })).toEqual({ effort: "low" });
    expect(clamp({ model: "gpt-5.5", reasoning: { effort: "max", summary: "auto" } })).toEqual({
      effort: "xhigh",
      summary: "auto",
    });
    expect(clamp({ model: "gpt-5.5-high", reasoning: { effort: "minimal" } })).toEqual({ effort: "low" });
    expect(clamp({ model: "gpt-5.5-max" })).toEqual({ effort: "xhigh" });
    expect(() => clamp({ model: "gpt-5.5", reasoning: { effort: "ultra" } })).toThrow(/not supported by gpt-5.5/);
  });

  it("clamps on /v1/chat/completions, where an explicit effort beats a model-name suffix", () => {
    const effort = (raw: Record<string, unknown>) =>
      (toResponsesRequest({ messages: [user], ...raw }, ctx).body.reasoning as { effort: string }).effort;
    expect(effort({ model: "gpt-5.5", reasoning_effort: "none" })).toBe("low");
    expect(effort({ model: "gpt-5.5", reasoning_effort: "max" })).toBe("xhigh");
    expect(effort({ model: "gpt-5.5-high", reasoning_effort: "minimal" })).toBe("low");
    expect(effort({ model: "gpt-5.6-sol-max", reasoning_effort: "medium" })).toBe("medium");
  });
});

describe("service_tier", () => {
  it("sends fast as priority, passes priority, drops the rest, on both routes", () => {
    const responses = (tier: string) =>
      normaliseResponsesRequest({ input: "x", service_tier: tier }, ctx).body.service_tier;
    const chat = (tier: string) => toResponsesRequest({ messages: [user], service_tier: tier }, ctx).body.service_tier;
    for (const route of [responses, chat]) {
      expect(route("fast")).toBe("priority");
      expect(route("priority")).toBe("priority");
      expect(route("auto")).toBeUndefined();
      expect(route("flex")).toBeUndefined();
    }
  });
});
