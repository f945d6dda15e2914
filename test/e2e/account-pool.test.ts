/**
 * The account pool through the real server against the fake backend, whose
 * accounts each hit their own usage limit: failover before the first byte
 * (HTTP 429 and in-stream), sticky conversations, resets, the exhausted 429,
 * pins, accounts taken out of rotation, backoffs, and `/v1/pool`.
 * The proxy's clock is injected: a reset "passes" by moving it.
 */
import os from "node:os";
import path from "node:path";
import { mkdtempSync } from "node:fs";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RateLimitTracker } from "../../src/codex/rate-limits.js";
import { silentLogger } from "../../src/core/logging.js";
import { TokenManager } from "../../src/credentials/token-manager.js";
import { NodeAccountDirectory } from "../../src/node/account-directory.js";
import type { AccountSummary } from "../../src/pool/types.js";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { accessToken } from "../helpers/jwt.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { parseSse } from "../helpers/sse.js";

let backend: FakeCodexBackend;
let proxy: TestProxy | undefined;
/** The proxy's clock, epoch ms. */
let clock = Date.now();
const now = () => clock;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
});
afterAll(async () => {
  await backend?.close();
});
beforeEach(() => {
  backend.reset();
  clock = Date.now();
});
afterEach(async () => {
  await proxy?.close(100);
  proxy = undefined;
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function poolProxy(accounts: string[], env: Record<string, string> = {}): Promise<TestProxy> {
  proxy = await startTestProxy({
    codexBaseUrl: backend.url,
    accounts,
    now,
    env: { POOL_STRATEGY: "fill-first", ...env },
  });
  return proxy;
}

/** The accounts (chatgpt-account-id) that the backend saw on `/responses`, in order. */
function accountsSeen(): string[] {
  return backend.requests.filter((r) => r.path.endsWith("/responses")).map((r) => r.headers["chatgpt-account-id"]!);
}

async function poolView(p: TestProxy) {
  const response = await fetch(`${p.url}/v1/pool`);
  expect(response.status).toBe(200);
  return (await response.json()) as {
    object: string;
    strategy: string;
    accounts: AccountSummary[];
    recent: Array<{ path: string; account?: string; status: number; model?: string }>;
  };
}

const accountOf = (view: { accounts: AccountSummary[] }, name: string) => view.accounts.find((a) => a.name === name)!;

function openai(p: TestProxy): OpenAI {
  return new OpenAI({ baseURL: p.baseURL, apiKey: "unused", maxRetries: 0 });
}

describe("failover on a usage limit, before the first byte", () => {
  it("responses, not streaming: A's 429 is never seen; B answers, the log names both", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.limitAccount("acct_a", { resetsAt: nowSeconds() + 3600 });
    backend.enqueue({ kind: "text", text: "Answered by the second account." });
    const response = await openai(p).responses.create({ model: "gpt-5.5", input: "hi" });
    expect(response.output_text).toBe("Answered by the second account.");
    expect(accountsSeen()).toEqual(["acct_a", "acct_b"]);
    expect(p.logs.join("\n")).toMatch(/account "a" reached its usage limit \(resets .*\); retrying on "b"/);
    expect(p.logs.find((line) => line.includes("request") && line.includes("/v1/responses"))).toMatch(/account=b/);
    const view = await poolView(p);
    expect(accountOf(view, "a")).toMatchObject({ state: "cooling_down", cooldownUntil: expect.any(Number) });
    expect(accountOf(view, "b").state).toBe("ready");
    expect(view.recent[0]).toMatchObject({ path: "/v1/responses", account: "b", status: 200, model: "gpt-5.5" });
  });

  it("chat, streaming: a usage limit inside A's stream, before any output, becomes B's clean stream", async () => {
    const p = await poolProxy(["a", "b"]);
    const resetsAt = nowSeconds() + 3600;
    backend.limitAccount("acct_a", { resetsAt, inStream: true });
    const stream = await openai(p).chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text.length).toBeGreaterThan(0);
    expect(accountsSeen()).toEqual(["acct_a", "acct_b"]);
    // The reset the stream reported is the cooldown's end.
    expect(accountOf(await poolView(p), "a")).toMatchObject({ state: "cooling_down", cooldownUntil: resetsAt * 1000 });
  });

  it("chat, not streaming, in-stream limit: 200 from B", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.limitAccount("acct_a", { resetsAt: nowSeconds() + 3600, inStream: true });
    backend.enqueue({ kind: "text", text: "B speaking." });
    const completion = await openai(p).chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.choices[0]!.message.content).toBe("B speaking.");
    expect(accountsSeen()).toEqual(["acct_a", "acct_b"]);
  });

  it("Anthropic messages, streaming: B answers and the stream has no error event", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.limitAccount("acct_a", { resetsAt: nowSeconds() + 3600 });
    backend.enqueue({ kind: "text", text: "Claude-shaped answer from B." });
    const client = new Anthropic({ baseURL: p.url, apiKey: "unused", maxRetries: 0 });
    const message = await client.messages
      .stream({ model: "claude-sonnet-4-5", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    expect(message.content.find((block) => block.type === "text")).toMatchObject({
      text: "Claude-shaped answer from B.",
    });
    expect(accountsSeen()).toEqual(["acct_a", "acct_b"]);
  });

  it("a raw streaming request shows only B's events (no error frame)", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.limitAccount("acct_a", { resetsAt: nowSeconds() + 3600, inStream: true });
    const response = await fetch(`${p.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", input: "hi", stream: true }),
    });
    expect(response.status).toBe(200);
    const events = parseSse(await response.text());
    expect(events.map((e) => e.event)).not.toContain("error");
    expect(events.map((e) => e.event)).not.toContain("response.failed");
    expect(events.at(-1)?.event).toBe("response.completed");
  });
});

describe("failover on the other routes", () => {
  it("images: A's limit, B's picture", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.limitAccount("acct_a", { resetsAt: nowSeconds() + 3600 });
    const image = await openai(p).images.generate({ model: "gpt-image-2", prompt: "a lighthouse" });
    expect(image.data?.[0]?.b64_json).toBeTruthy();
    const imageAccounts = backend.requests
      .filter((r) => r.path.includes("/images/"))
      .map((r) => r.headers["chatgpt-account-id"]);
    expect(imageAccounts).toEqual(["acct_a", "acct_b"]);
    expect(p.logs.find((line) => line.includes("request") && line.includes("/v1/images"))).toMatch(/account=b/);
  });
});

describe("sticky conversations and resets", () => {
  it("the conversation stays on B; new ones avoid A until its reset, then may use A again", async () => {
    const p = await poolProxy(["a", "b"]);
    const client = openai(p);
    const resetsAt = nowSeconds() + 600;
    backend.limitAccount("acct_a", { resetsAt });
    const ask = (key: string) => client.responses.create({ model: "gpt-5.5", input: "hi", prompt_cache_key: key });

    await ask("conversation-1");
    expect(accountsSeen()).toEqual(["acct_a", "acct_b"]);
    // A is cooling: neither the conversation nor a new one asks it again.
    await ask("conversation-1");
    await ask("conversation-2");
    expect(accountsSeen()).toEqual(["acct_a", "acct_b", "acct_b", "acct_b"]);

    // A's reset passes (the backend lifts the limit, the proxy's clock moves past it).
    backend.liftLimit("acct_a");
    clock = resetsAt * 1000 + 1000;
    expect(accountOf(await poolView(p), "a").state).toBe("ready");
    await ask("conversation-1"); // stays on B: its prompt cache is there
    await ask("conversation-3"); // new: fill-first takes A again
    expect(accountsSeen().slice(4)).toEqual(["acct_b", "acct_a"]);
  });

  it("a cooldown is never shortened by a later, earlier reset", async () => {
    // One account is always tried, so a second, earlier reset is seen while the first cooldown runs.
    const p = await poolProxy(["a"]);
    const ask = () =>
      fetch(`${p.baseURL}/responses`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-5.5", input: "hi" }),
      });
    const late = nowSeconds() + 7200;
    backend.limitAccount("acct_a", { resetsAt: late });
    const first = await ask();
    expect(first.status).toBe(429);
    // One account: the backend's own usage-limit answer, as before pools.
    expect(((await first.json()) as { error: { message: string } }).error.message).toMatch(
      /^ChatGPT usage limit reached for plan plus/,
    );
    backend.limitAccount("acct_a", { resetsAt: nowSeconds() + 60 });
    expect((await ask()).status).toBe(429);
    expect(accountsSeen()).toEqual(["acct_a", "acct_a"]);
    expect(accountOf(await poolView(p), "a")).toMatchObject({ state: "cooling_down", cooldownUntil: late * 1000 });
  });
});

describe("every account at its limit", () => {
  it("→ 429 usage_limit_reached with the earliest reset in Retry-After; the OpenAI SDK raises RateLimitError", async () => {
    const p = await poolProxy(["a", "b"]);
    const resetA = nowSeconds() + 1800;
    const resetB = nowSeconds() + 900;
    backend.limitAccount("acct_a", { resetsAt: resetA });
    backend.limitAccount("acct_b", { resetsAt: resetB });
    const raw = await fetch(`${p.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(raw.status).toBe(429);
    const expectedWait = resetB - Math.floor(clock / 1000);
    expect(raw.headers.get("retry-after")).toBe(String(expectedWait));
    const body = (await raw.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({
      type: "usage_limit_reached",
      code: "usage_limit_reached",
      resets_at: resetB,
      resets_in_seconds: expectedWait,
    });
    expect(String(body.error.message)).toMatch(/All 2 accounts .* usage limits; the earliest resets at/);

    // Now both are known to be cooling: the SDK's request does not even reach the backend.
    const before = accountsSeen().length;
    const error = await openai(p)
      .chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after")).toBe(
      String(expectedWait),
    );
    expect(accountsSeen().length).toBe(before);
  });

  it("one at its limit and the other out of rotation is exhausted too: 429 with the first's reset", async () => {
    const p = await poolProxy(["a", "b"]);
    const resetA = nowSeconds() + 1200;
    backend.limitAccount("acct_a", { resetsAt: resetA });
    backend.setAccountAnswer("acct_b", {
      kind: "http",
      status: 403,
      body: JSON.stringify({ error: { type: "usage_not_included", message: "no Codex" } }),
    });
    const response = await fetch(`${p.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", input: "hi" }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe(String(resetA - Math.floor(clock / 1000)));
    expect(((await response.json()) as { error: { resets_at: number } }).error.resets_at).toBe(resetA);
  });

  it("on /v1/messages the 429 comes in the Anthropic shape, and Anthropic's SDK raises RateLimitError", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.limitAccount("acct_a", { resetsAt: nowSeconds() + 1800 });
    backend.limitAccount("acct_b", { resetsAt: nowSeconds() + 900 });
    const client = new Anthropic({ baseURL: p.url, apiKey: "unused", maxRetries: 0 });
    const error = await client.messages
      .create({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(
      Number((error as InstanceType<typeof Anthropic.RateLimitError>).headers?.get("retry-after")),
    ).toBeGreaterThan(0);
  });
});

describe("pinning an account with X-Codex-Account", () => {
  it("uses the pinned account; an unknown one is a 400 naming the accounts (OpenAI and Anthropic shapes)", async () => {
    const p = await poolProxy(["a", "b"]);
    const pinned = await fetch(`${p.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-codex-account": "b" },
      body: JSON.stringify({ model: "gpt-5.5", input: "hi" }),
    });
    expect(pinned.status).toBe(200);
    expect(accountsSeen()).toEqual(["acct_b"]);

    const unknown = await fetch(`${p.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-codex-account": "nobody" },
      body: JSON.stringify({ model: "gpt-5.5", input: "hi" }),
    });
    expect(unknown.status).toBe(400);
    const body = (await unknown.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "unknown_account" });
    expect(body.error.message).toContain('"a", "b"');

    const anthropic = await fetch(`${p.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-codex-account": "nobody", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });

    const pinnedMessages = await fetch(`${p.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-codex-account": "b", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(pinnedMessages.status).toBe(200);
    expect(accountsSeen()).toEqual(["acct_b", "acct_b"]);
  });

  it("a pinned account at its limit answers 429 and does not fail over", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.limitAccount("acct_a", { resetsAt: nowSeconds() + 600 });
    const pinned = await fetch(`${p.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-codex-account": "a" },
      body: JSON.stringify({ model: "gpt-5.5", input: "hi" }),
    });
    expect(pinned.status).toBe(429);
    expect(pinned.headers.get("retry-after")).toBeTruthy();
    expect(accountsSeen()).toEqual(["acct_a"]);
  });
});

describe("accounts out of rotation, and backoffs", () => {
  it("a plan without Codex takes the account out (no_codex, with the reason); B answers", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.setAccountAnswer("acct_a", {
      kind: "http",
      status: 403,
      body: JSON.stringify({ error: { type: "usage_not_included", message: "Codex is not included in your plan" } }),
    });
    for (let i = 0; i < 2; i++)
      expect((await openai(p).responses.create({ model: "gpt-5.5", input: "hi" })).status).toBe("completed");
    expect(accountsSeen()).toEqual(["acct_a", "acct_b", "acct_b"]);
    const a = accountOf(await poolView(p), "a");
    expect(a.state).toBe("no_codex");
    expect(a.reason).toMatch(/does not include Codex/);
  });

  it("a dead refresh chain takes the account out (needs_login, with the reason); B answers", async () => {
    const oauth: FakeOAuthServer = await startFakeOAuthServer();
    try {
      const home = mkdtempSync(path.join(os.tmpdir(), "codex-proxy-pool-"));
      const store = new NodeAccountDirectory(home).open("dead");
      // Expired, with a refresh token the issuer never issued: the refresh fails for good.
      await store.set({ accessToken: "expired-token", refreshToken: "rt_not_known_to_the_issuer_0123", expiresAt: 1 });
      const dead = new TokenManager({
        store,
        issuer: oauth.issuer,
        fetch: globalThis.fetch.bind(globalThis),
        now: Date.now,
        logger: silentLogger,
        sleep: async () => {},
      });
      const p = await startTestProxy({
        codexBaseUrl: backend.url,
        members: [{ name: "dead", auth: dead, store, rateLimits: new RateLimitTracker() }],
        accounts: ["b"],
        now,
        env: { POOL_STRATEGY: "fill-first" },
      });
      proxy = p;
      for (let i = 0; i < 2; i++)
        expect((await openai(p).responses.create({ model: "gpt-5.5", input: "hi" })).status).toBe("completed");
      // The dead account never reached the backend, and was asked about only once.
      expect(accountsSeen()).toEqual(["acct_b", "acct_b"]);
      expect(oauth.refreshCount).toBe(1);
      const view = await poolView(p);
      expect(accountOf(view, "dead").state).toBe("needs_login");
      expect(accountOf(view, "dead").reason).toMatch(/refresh/i);
      expect(p.logs.join("\n")).toMatch(/account "dead" failed \(refresh_failed\); retrying on "b"/);

      // A new login puts it back in rotation once the pool reads its file again.
      const fresh = accessToken({ accountId: "acct_dead" });
      backend.acceptToken(fresh);
      await store.set({ accessToken: fresh, expiresAt: Date.now() + 24 * 3600_000, accountId: "acct_dead" });
      clock += 10_000;
      expect((await openai(p).responses.create({ model: "gpt-5.5", input: "hi" })).status).toBe("completed");
      expect(accountsSeen().at(-1)).toBe("acct_dead");
      expect(accountOf(await poolView(p), "dead").state).toBe("ready");

      // `accounts disable` (the `disabled` flag in its file) leaves it out; a pin still reaches it.
      await store.set({ ...(await store.get())!, disabled: true });
      clock += 10_000;
      expect((await openai(p).responses.create({ model: "gpt-5.5", input: "hi" })).status).toBe("completed");
      expect(accountsSeen().at(-1)).toBe("acct_b");
      expect(accountOf(await poolView(p), "dead")).toMatchObject({ state: "disabled", reason: expect.any(String) });
      const pinned = await fetch(`${p.baseURL}/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-codex-account": "dead" },
        body: JSON.stringify({ model: "gpt-5.5", input: "hi" }),
      });
      expect(pinned.status).toBe(200);
      expect(accountsSeen().at(-1)).toBe("acct_dead");
    } finally {
      await oauth.close();
    }
  });

  it("a 5xx gives a short backoff, not a cooldown until a reset; B answers", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.setAccountAnswer("acct_a", {
      kind: "http",
      status: 500,
      body: JSON.stringify({ error: { message: "boom" } }),
    });
    expect((await openai(p).responses.create({ model: "gpt-5.5", input: "hi" })).status).toBe("completed");
    // The client's own retries (2) on A, then B.
    expect(accountsSeen()).toEqual(["acct_a", "acct_a", "acct_a", "acct_b"]);
    const a = accountOf(await poolView(p), "a");
    expect(a.state).toBe("backing_off");
    expect(a.cooldownUntil).toBe(clock + 30_000);
    // After the backoff, A is tried again (and answers now).
    backend.setAccountAnswer("acct_a", undefined);
    clock += 31_000;
    await openai(p).responses.create({ model: "gpt-5.5", input: "hi" });
    expect(accountsSeen().at(-1)).toBe("acct_a");
    expect(accountOf(await poolView(p), "a").state).toBe("ready");
  });

  it("with every account failing with 5xx, the client gets the backend's error, not a 429", async () => {
    const p = await poolProxy(["a", "b"]);
    for (const id of ["acct_a", "acct_b"])
      backend.setAccountAnswer(id, { kind: "http", status: 502, body: JSON.stringify({ error: { message: "down" } }) });
    const response = await fetch(`${p.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", input: "hi" }),
    });
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("upstream_error");
  });
});

describe("strategies chosen with POOL_STRATEGY", () => {
  const ask = (p: TestProxy, key: string, account?: string) =>
    fetch(`${p.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(account ? { "x-codex-account": account } : {}) },
      body: JSON.stringify({ model: "gpt-5.5", input: "hi", prompt_cache_key: key }),
    });

  it("round-robin spreads new conversations over the accounts in turn", async () => {
    const p = await poolProxy(["a", "b", "c"], { POOL_STRATEGY: "round-robin" });
    for (const key of ["k1", "k2", "k3", "k4"]) expect((await ask(p, key)).status).toBe(200);
    expect(accountsSeen()).toEqual(["acct_a", "acct_b", "acct_c", "acct_a"]);
  });

  it("most-room (the default) sends new conversations to the account with the most left", async () => {
    proxy = await startTestProxy({ codexBaseUrl: backend.url, accounts: ["a", "b"], now });
    const window = (used: string) => ({
      "x-codex-primary-used-percent": used,
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-at": String(nowSeconds() + 3600),
    });
    backend.setAccountRateLimits("acct_a", window("90"));
    backend.setAccountRateLimits("acct_b", window("10"));
    // Each account's windows become known from its own answers.
    expect((await ask(proxy, "seen-a", "a")).status).toBe(200);
    expect((await ask(proxy, "seen-b", "b")).status).toBe(200);
    for (const key of ["k1", "k2"]) expect((await ask(proxy, key)).status).toBe(200);
    expect(accountsSeen()).toEqual(["acct_a", "acct_b", "acct_b", "acct_b"]);
  });
});

describe("what the pool shows", () => {
  it("/v1/usage keeps the default account's windows at the top and lists every account's", async () => {
    const p = await poolProxy(["a", "b"]);
    backend.setAccountRateLimits("acct_b", {
      "x-codex-primary-used-percent": "75",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-at": String(nowSeconds() + 3600),
    });
    for (const name of ["a", "b"]) {
      const response = await fetch(`${p.baseURL}/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-codex-account": name },
        body: JSON.stringify({ model: "gpt-5.5", input: "hi" }),
      });
      expect(response.status).toBe(200);
    }
    const usage = (await (await fetch(`${p.baseURL}/usage`)).json()) as {
      rate_limits: { windows: Array<{ usedPercent: number; label: string }> };
      accounts: AccountSummary[];
    };
    expect(usage.rate_limits.windows[0]).toMatchObject({ usedPercent: 12.5, label: "5-hour" });
    expect(usage.accounts.map((a) => a.name)).toEqual(["a", "b"]);
    expect(accountOf(usage, "b").rateLimits?.windows[0]?.usedPercent).toBe(75);
    expect(JSON.stringify(usage)).not.toContain("test-access-token");

    // The Codex usage endpoint answers for the pinned account.
    const codexUsage = (await (
      await fetch(`${p.url}/api/codex/usage`, { headers: { "x-codex-account": "b" } })
    ).json()) as { rate_limit?: { primary_window?: { used_percent?: number } } };
    expect(codexUsage.rate_limit?.primary_window?.used_percent).toBe(75);
  });

  it("/v1/pool: strategy, accounts and recent requests without content; behind the API key", async () => {
    proxy = await startTestProxy({
      codexBaseUrl: backend.url,
      accounts: ["a", "b"],
      now,
      env: { PROXY_API_KEY: "sk-pool-test-key-0123456789", POOL_STRATEGY: "round-robin" },
    });
    expect((await fetch(`${proxy.url}/v1/pool`)).status).toBe(401);
    const response = await fetch(`${proxy.url}/v1/pool`, {
      headers: { authorization: "Bearer sk-pool-test-key-0123456789" },
    });
    const view = (await response.json()) as { strategy: string; accounts: AccountSummary[]; object: string };
    expect(view).toMatchObject({ object: "pool", strategy: "round-robin" });
    expect(view.accounts.map((a) => a.state)).toEqual(["ready", "ready"]);
  });
});
