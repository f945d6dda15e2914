/**
 * The real Codex CLI (`codex exec` 0.171, node_modules) through the proxy
 * against the fake backend, offline: a temporary CODEX_HOME declares the
 * proxy as a custom Responses provider (test/helpers/codex-cli.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { runCodexExec } from "../helpers/codex-cli.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let backend: FakeCodexBackend;
let proxy: TestProxy;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
  proxy = await startTestProxy({ codexBaseUrl: backend.url });
});
afterAll(async () => {
  await proxy?.close(100);
  await backend?.close();
});
beforeEach(() => backend.reset());

const upstream = () => backend.requests.filter((r) => r.method === "POST" && r.path.endsWith("/responses"));
const proxied = (method: string, path: string, from: number) =>
  proxy.logs.slice(from).filter((line) => line.includes(`method=${method} path=${path} `));

describe("codex exec through the proxy", () => {
  it("answers a prompt, with an effort the model supports and the current conversation headers", async () => {
    // The CLI offers the hosted web_search tool, on which the fake would search: answer plainly.
    backend.enqueue({ kind: "text", text: "Echo: Say hi" });
    const run = await runCodexExec({ baseURL: proxy.baseURL, prompt: "Say hi" });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Echo: Say hi");
    const sent = upstream().at(-1)!;
    expect(["low", "medium", "high", "xhigh"]).toContain(sent.body.reasoning.effort);
    expect(sent.headers["session-id"]).toEqual(expect.any(String));
    expect(sent.headers.session_id).toBeUndefined();
  }, 90_000);

  it("compacts its context mid-turn and finishes the task", async () => {
    // A tool call makes a second request in the same turn; the low limit makes the CLI compact before it.
    backend.enqueue({ kind: "tool_calls", calls: [{ name: "no_such_tool", arguments: "{}" }] });
    const run = await runCodexExec({
      baseURL: proxy.baseURL,
      prompt: "Do the task",
      extraConfig: "model_auto_compact_token_limit = 2000",
    });
    expect(run.code, run.stderr).toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain("context compacted");
    expect(upstream().length).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it("falls back from the WebSocket to HTTP after one refused upgrade (426)", async () => {
    const from = proxy.logs.length;
    backend.enqueue({ kind: "text", text: "Echo: Say hi" });
    const run = await runCodexExec({ baseURL: proxy.baseURL, prompt: "Say hi", websockets: true });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Echo: Say hi");
    expect(proxied("GET", "/v1/responses", from).map((line) => /status=(\d+)/.exec(line)?.[1])).toEqual(["426"]);
    expect(proxied("POST", "/v1/responses", from)).toHaveLength(1);
    console.info(`codex exec with the WebSocket refused: ${Math.round(run.ms)} ms`);
  }, 90_000);
});

describe("codex exec on two accounts", () => {
  it("finishes a task through a usage limit met mid-task, with one line in the log", async () => {
    const pool = await startTestProxy({
      codexBaseUrl: backend.url,
      accounts: ["personal", "work"],
      env: { POOL_STRATEGY: "fill-first" },
    });
    try {
      // The task's first request is served by personal; its next one meets personal's limit.
      backend.limitAccount("acct_personal", { resetsAt: Math.floor(Date.now() / 1000) + 3600, afterRequests: 1 });
      backend.enqueue({ kind: "tool_calls", calls: [{ name: "no_such_tool", arguments: "{}" }] });
      backend.enqueue({ kind: "text", text: "Task done" });
      const run = await runCodexExec({ baseURL: pool.baseURL, prompt: "Do the task" });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain("Task done");
      expect(`${run.stdout}${run.stderr}`).not.toMatch(/usage.limit|rate.limit|(^|\s)429(\s|$)/im);
      const accounts = upstream().map((r) => r.headers["chatgpt-account-id"]);
      // work cannot read the reasoning personal encrypted: refused once, then sent again without it.
      expect(accounts).toEqual(["acct_personal", "acct_personal", "acct_work", "acct_work"]);
      const replayed = upstream()[3]!.body.input as Array<{ type?: string; encrypted_content?: string }>;
      expect(replayed.some((item) => item.type === "function_call")).toBe(true);
      expect(replayed.some((item) => item.encrypted_content !== undefined)).toBe(false);
      expect(pool.logs.filter((line) => line.includes("reached its usage limit"))).toHaveLength(1);
    } finally {
      await pool.close(100);
    }
  }, 90_000);
});
