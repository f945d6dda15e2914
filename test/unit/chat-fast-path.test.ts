/**
 * The chat relay's fast path (delta literals copied without parsing) must
 * produce exactly what the full translator produces, for every fixture and
 * every reasoning mode.
 */
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jsonStringLiteral } from "../../src/codex/json-fields.js";
import { parseEventData, UpstreamEventReader, type RawEvent } from "../../src/codex/sse.js";
import type { ReasoningOutput } from "../../src/core/config.js";
import { ChatRelay } from "../../src/server/routes/chat-completions.js";
import { ChatStreamTranslator } from "../../src/translate/chat-response.js";
import { FIXTURES, fixtureText } from "../helpers/fixtures.js";

async function rawEvents(text: string): Promise<RawEvent[]> {
  const body = new Response(text).body!;
  const reader = new UpstreamEventReader(body, 5000);
  const out: RawEvent[] = [];
  for (let raw = await reader.next(); raw; raw = await reader.next()) out.push(raw);
  return out;
}

describe("jsonStringLiteral", () => {
  it("returns the raw literal, escapes included, or undefined", () => {
    const data = JSON.stringify({
      type: "response.output_text.delta",
      item_id: "msg_1",
      delta: 'say "hi"\\n\u00e9\n\t',
      logprobs: [],
    });
    const literal = jsonStringLiteral(data, "delta")!;
    expect(JSON.parse(literal)).toBe('say "hi"\\n\u00e9\n\t');
    expect(jsonStringLiteral(data, "item_id")).toBe('"msg_1"');
    expect(jsonStringLiteral(data, "missing")).toBeUndefined();
    expect(jsonStringLiteral('{"delta":"unterminated', "delta")).toBeUndefined();
  });
});

describe("fast path equals the full translator", () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".sse") && !f.includes("chat-chunks"));
  for (const mode of ["reasoning_content", "think-tags", "off"] as ReasoningOutput[]) {
    for (const file of files) {
      it(`${file} (${mode})`, async () => {
        const options = {
          id: "chatcmpl-x",
          created: 1,
          model: "gpt-5.5",
          includeUsage: true,
          reasoningOutput: mode,
          toolNames: new Map<string, string>(),
        };
        const raws = await rawEvents(fixtureText(file));
        const relay = new ChatRelay(new ChatStreamTranslator(options));
        const fast = raws.map((r) => relay.onEvent(r)).join("") + relay.onEnd();
        const full = new ChatStreamTranslator(options);
        const slow = raws.map((r) => full.push(parseEventData(r)!)).join("") + full.end();
        expect(fast).toBe(slow);
      });
    }
  }
});
