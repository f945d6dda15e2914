/**
 * Keeping up with the Codex backend and its clients (docs/protocol.md §11),
 * through the real server against the fake backend, driven by real clients:
 * the OpenAI Agents SDK, the openai SDK and raw HTTP shaped like the Codex CLI.
 */
import { Agent, OpenAIProvider, Runner, setTracingDisabled } from "@openai/agents";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

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
