/**
 * The count_tokens estimate against the real o200k_base tokenizer (a test-only
 * dependency): it must never undercount and stay within 2× on the recorded
 * Claude Code requests and on other kinds of text.
 */
import { readFileSync } from "node:fs";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import { FALLBACK_MODELS } from "../../src/codex/models.js";
import { estimateInputTokens, estimateTextTokens } from "../../src/translate/anthropic/count-tokens.js";
import { toResponsesRequestFromAnthropic } from "../../src/translate/anthropic/request.js";
import { FIXTURES } from "../helpers/fixtures.js";

const ctx = { models: FALLBACK_MODELS, defaultModel: "gpt-5.5", modelMap: {} };

/** What the model reads, as text: the instructions, every item's JSON, the tools' JSON. */
function realCount(body: Record<string, unknown>): number {
  return countTokens(`${body.instructions}${JSON.stringify(body.input)}${JSON.stringify(body.tools ?? [])}`);
}

describe("count_tokens estimate", () => {
  it.each(["claude-code-turn1", "claude-code-turn2"])("%s: between 1× and 2× the real count", (name) => {
    const recorded = JSON.parse(readFileSync(new URL(`anthropic/${name}.request.json`, FIXTURES), "utf8"));
    const body = toResponsesRequestFromAnthropic(recorded.body, ctx).body;
    const estimate = estimateInputTokens(body);
    const real = realCount(body);
    expect(real).toBeGreaterThan(5_000);
    expect(estimate / real).toBeGreaterThanOrEqual(1);
    expect(estimate / real).toBeLessThanOrEqual(2);
  });

  it.each([
    ["English prose", "The quick brown fox jumps over the lazy dog. ".repeat(200)],
    ["TypeScript", readFileSync(new URL("../../src/translate/anthropic/request.ts", import.meta.url), "utf8")],
    ["JSON", JSON.stringify({ list: Array.from({ length: 300 }, (_, i) => ({ id: i, name: `item-${i}` })) })],
    ["Chinese", "我们今天去公园散步，然后在湖边喝茶。".repeat(50)],
    ["French", "Les élèves étudient à l'école où ils apprennent beaucoup de choses intéressantes. ".repeat(50)],
    ["digits", "3.14159265358979323846264338327950288419716939937510 ".repeat(50)],
  ])("%s: never under the real count, within 2.5×", (_name, text) => {
    const real = countTokens(text);
    const estimate = estimateTextTokens(text);
    expect(estimate).toBeGreaterThanOrEqual(real);
    expect(estimate / real).toBeLessThanOrEqual(2.5);
  });
});
