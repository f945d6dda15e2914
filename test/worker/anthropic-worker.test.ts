/**
 * The Anthropic front on the Worker under wrangler's local runtime: the
 * official SDK streams and counts tokens, and Claude Code itself runs a
 * tool loop through it to a final answer.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { claudeCodeScenario, runClaude } from "../helpers/claude-code.js";
import { accessToken } from "../helpers/jwt.js";
import { startLocalWorker, type LocalWorker } from "../helpers/worker.js";

const KEY = "worker-anthropic-key-0123456789";
let backend: FakeCodexBackend;
let worker: LocalWorker;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
  const token = accessToken({ accountId: "acct_w" });
  backend.acceptToken(token);
  worker = await startLocalWorker({
    ADMIN_API_KEY: "worker-admin-key-0123456789",
    PROXY_API_KEY: KEY,
    CODEX_BASE_URL: backend.url,
    ACCESS_TOKEN: token,
  });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await backend?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the upstream request bodies, indexed freely
const sentBodies = (): any[] => backend.requests.filter((r) => r.path.endsWith("/responses")).map((r) => r.body);

describe("the Anthropic front on the Worker", () => {
  it("streams a message and counts tokens with the official SDK", async () => {
    backend.reset();
    backend.enqueue({ kind: "text", text: "from the edge", reasoningSummary: ["Thinking at the edge."] });
    const client = new Anthropic({ baseURL: worker.url, apiKey: KEY, maxRetries: 0 });
    const message = await client.messages
      .stream({ model: "claude-sonnet-4-5", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    expect(message.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect((message.content[1] as Anthropic.TextBlock).text).toBe("from the edge");
    const count = await client.messages.countTokens({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "hello" }],
    });
    expect(count.input_tokens).toBeGreaterThan(0);
    const denied = await new Anthropic({ baseURL: worker.url, apiKey: "wrong", maxRetries: 0 }).messages
      .create({ model: "gpt-5.5", max_tokens: 5, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
  }, 60_000);

  it("runs Claude Code's tool loop to a final answer", async () => {
    backend.reset();
    backend.setDefault(claudeCodeScenario);
    const result = await runClaude("TOOL: please run echo hi", {
      baseUrl: worker.url,
      apiKey: KEY,
      args: ["--allowedTools", "Bash"],
    });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.json).toMatchObject({ type: "result", is_error: false, result: "Tool said: hi", num_turns: 2 });
    expect(sentBodies()[1].input.some((item: { type?: string }) => item.type === "reasoning")).toBe(true);
  }, 90_000);
});
