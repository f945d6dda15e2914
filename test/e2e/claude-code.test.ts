/**
 * Claude Code itself (the installed 2.1 binary) through `codex-proxy serve`
 * against the fake backend: a plain answer, and a tool loop in which Claude
 * Code runs the tool and sends the thinking block back, and a tool loop that
 * meets one account's usage limit mid-task on a two-account serve.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { claudeCodeScenario, runClaude } from "../helpers/claude-code.js";
import { startCli, startServe, stopServes, tempHome, type RunningCli } from "../helpers/cli.js";
import { NodeAccountDirectory } from "../../src/node/account-directory.js";
import { accessToken } from "../helpers/jwt.js";

const KEY = "sk-proxy-claude-code-test";

let backend: FakeCodexBackend;
let serve: RunningCli;
let url: string;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
  backend.setDefault(claudeCodeScenario);
  const token = accessToken({ accountId: "acct_cc" });
  backend.acceptToken(token);
  serve = startCli(["serve", "--port", "0"], {
    CODEX_PROXY_HOME: "/nonexistent-codex-proxy-home",
    CODEX_BASE_URL: backend.url,
    ACCESS_TOKEN: token,
    PROXY_API_KEY: KEY,
  });
  url = (await serve.waitFor(/listening on (http:\/\/\S+)/))[1]!;
});
afterAll(async () => {
  serve?.child.kill("SIGTERM");
  await serve?.exited;
  await backend?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the upstream request bodies, indexed freely
const sentBodies = (): any[] => backend.requests.filter((r) => r.path.endsWith("/responses")).map((r) => r.body);

describe("Claude Code through serve", () => {
  it("answers claude -p with the backend's text", async () => {
    backend.reset();
    backend.setDefault(claudeCodeScenario);
    const result = await runClaude("say hi", { baseUrl: url, apiKey: KEY });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.json).toMatchObject({ type: "result", subtype: "success", is_error: false });
    expect(result.json.result).toBe("Hello from the proxy.");
    // Usage arrives with message_delta (the backend reports it only at the end), and Claude Code takes it from there.
    expect(result.json.usage.input_tokens + result.json.usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect(result.json.usage.output_tokens).toBeGreaterThan(0);
    const body = sentBodies()[0];
    expect(body.model).toBe("gpt-5.6-sol"); // Claude Code's default opus name → the strongest model
    expect(body.prompt_cache_key).toBe(result.json.session_id);
    expect(body.input.some((item: { role?: string }) => item.role === "developer")).toBe(true);
  }, 90_000);

  it("runs a tool loop: Claude Code runs Bash, and the thinking block comes back as the reasoning item", async () => {
    backend.reset();
    backend.setDefault(claudeCodeScenario);
    const result = await runClaude("TOOL: please run echo hi", {
      baseUrl: url,
      apiKey: KEY,
      args: ["--allowedTools", "Bash"],
    });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.json.result).toBe("Tool said: hi");
    expect(result.json.num_turns).toBe(2);
    const second = sentBodies()[1];
    const types = second.input.map((item: { type?: string }) => item.type);
    expect(types).toContain("reasoning");
    expect(types.indexOf("reasoning")).toBe(types.indexOf("function_call") - 1);
    expect(second.input.find((i: { type?: string }) => i.type === "reasoning").encrypted_content).toMatch(/^gAAAA/);
  }, 90_000);

  it("discovers the proxy's Claude model names from the Anthropic-shaped model list", async () => {
    backend.reset();
    backend.setDefault(claudeCodeScenario);
    const result = await runClaude("say hi", {
      baseUrl: url,
      apiKey: KEY,
      env: { CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: "1" },
    });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const cache = JSON.parse(readFileSync(path.join(result.home, ".claude/cache/gateway-models.json"), "utf8"));
    const ids = cache.models.map((m: { id: string }) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["claude-opus", "claude-sonnet", "claude-haiku"]));
  }, 90_000);

  it("a wrong key makes Claude Code fail with an authentication error", async () => {
    const result = await runClaude("say hi", { baseUrl: url, apiKey: "wrong-key" });
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/401|authenticat|API key/i);
  }, 90_000);
});

describe("Claude Code on two accounts", () => {
  it("finishes a tool loop through a usage limit met mid-task, with one line in the log", async () => {
    const home = tempHome("claude-pool-");
    const directory = new NodeAccountDirectory(home);
    for (const name of ["personal", "work"]) {
      const token = accessToken({ accountId: `acct_${name}` });
      backend.acceptToken(token);
      await directory.open(name === "personal" ? "default" : name).set({
        accessToken: token,
        refreshToken: `rt_unused_${name}_0123456789`,
        expiresAt: Date.now() + 24 * 3600_000,
        accountId: `acct_${name}`,
      });
    }
    backend.reset();
    backend.setDefault(claudeCodeScenario);
    const pool = await startServe({
      CODEX_PROXY_HOME: home,
      CODEX_BASE_URL: backend.url,
      PROXY_API_KEY: KEY,
      POOL_STRATEGY: "fill-first",
    });
    try {
      // The first request is served by personal; the next one meets personal's limit.
      backend.limitAccount("acct_personal", { resetsAt: Math.floor(Date.now() / 1000) + 3600, afterRequests: 1 });
      const result = await runClaude("TOOL: please run echo hi", {
        baseUrl: pool.url,
        apiKey: KEY,
        args: ["--allowedTools", "Bash"],
      });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(result.json.result).toBe("Tool said: hi");
      const accounts = backend.requests
        .filter((r) => r.path.endsWith("/responses"))
        .map((r) => r.headers["chatgpt-account-id"]);
      expect(accounts).toContain("acct_personal");
      expect(accounts.at(-1)).toBe("acct_work");
      expect(pool.cli.output().match(/reached its usage limit/g)).toHaveLength(1);
    } finally {
      await stopServes(pool);
    }
  }, 90_000);
});
