/**
 * The account pool on the Worker under wrangler's local runtime (workerd,
 * local KV and one Durable Object per account) against the fake backend,
 * whose accounts each hit their own usage limit: one refresh per account and
 * expiry, failover before the first byte with the cooldown kept by the
 * account's object, and the 429 when every account is at its limit.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { readLocalKv, readLocalKvKeys, startLocalWorker, type LocalWorker } from "../helpers/worker.js";

const ADMIN = "worker-failover-admin-key-012345";
/** Tests that read KV through the wrangler CLI (a process per read): a hang-catcher for a loaded machine, not a timing assertion. */
const READS_KV_TIMEOUT_MS = 120_000;
let backend: FakeCodexBackend;
let oauth: FakeOAuthServer;
let worker: LocalWorker;

beforeAll(async () => {
  oauth = await startFakeOAuthServer();
  backend = await startFakeCodexBackend({ issuers: [oauth] });
  worker = await startLocalWorker({
    ADMIN_API_KEY: ADMIN,
    CODEX_BASE_URL: backend.url,
    CODEX_AUTH_ISSUER: oauth.issuer,
    // The default account first while it can serve: which account a request meets is then known.
    POOL_STRATEGY: "fill-first",
  });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await backend?.close();
  await oauth?.close();
});

const adminHeaders = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
const accountsStatus = async () =>
  (await (
    await fetch(`${worker.url}/admin/credentials/status`, { headers: adminHeaders }).then((r) => r.json())
  ).accounts) as Array<{ name: string; state: string; cooldownUntil?: number }>;

/** Pushes a login to `account` with its own ChatGPT account id (what the fake backend limits by). */
async function push(account: string, accountId: string, expiresInMs: number) {
  const tokens = oauth.issueTokens();
  const res = await fetch(`${worker.url}/admin/credentials?account=${account}`, {
    method: "POST",
    headers: adminHeaders,
    body: JSON.stringify({
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: Date.now() + expiresInMs,
      accountId,
    }),
  });
  expect(res.status).toBe(200);
  return tokens;
}

const chat = (content: string, headers: Record<string, string> = {}) =>
  fetch(`${worker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { ...adminHeaders, ...headers },
    body: JSON.stringify({ messages: [{ role: "user", content }] }),
  });

/** The account ids the backend saw on `/responses` since `from`. */
const accountsSeen = (from: number) =>
  backend.requests
    .filter((r) => r.path.endsWith("/responses"))
    .slice(from)
    .map((r) => r.headers["chatgpt-account-id"]);
const responsesSoFar = () => backend.requests.filter((r) => r.path.endsWith("/responses")).length;

describe("the account pool on the Worker", () => {
  it(
    "refreshes each account once per expiry under concurrent requests, each in its own object",
    async () => {
      const pushed = {
        default: await push("default", "acct_a", 10 * 60_000),
        work: await push("work", "acct_b", 10 * 60_000),
      };
      const before = { refreshes: oauth.refreshCount, reused: oauth.reusedCount };
      oauth.setRefreshDelay(200);
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => chat("hi", { "x-codex-account": i % 2 ? "work" : "default" })),
      ).finally(() => oauth.setRefreshDelay(0));
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
      expect(oauth.refreshCount - before.refreshes).toBe(2);
      expect(oauth.reusedCount - before.reused).toBe(0);
      const kv = await readLocalKvKeys(worker, ["codex_proxy_credentials", "codex_proxy_credentials:work"]);
      const rotated = {
        default: JSON.parse(kv.codex_proxy_credentials!).accessToken,
        work: JSON.parse(kv["codex_proxy_credentials:work"]!).accessToken,
      };
      expect(rotated.default).not.toBe(rotated.work);
      expect([rotated.default, rotated.work]).not.toContain(pushed.default.access_token);
      expect([rotated.default, rotated.work]).not.toContain(pushed.work.access_token);
    },
    READS_KV_TIMEOUT_MS,
  );

  it(
    "serves a request that meets account A's limit from account B; A's object keeps the cooldown",
    async () => {
      await push("default", "acct_a", 5 * 3600_000);
      await push("work", "acct_b", 5 * 3600_000);
      const resetsAt = Math.floor(Date.now() / 1000) + 3600;
      backend.limitAccount("acct_a", { resetsAt });
      const from = responsesSoFar();
      const client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: ADMIN, maxRetries: 0 });
      const answer = await client.chat.completions.create({
        model: "gpt-5.5",
        messages: [{ role: "user", content: "through the limit" }],
      });
      expect(answer.choices[0]!.message.content).toBe("Echo: through the limit");
      expect(accountsSeen(from)).toEqual(["acct_a", "acct_b"]);
      // The cooldown reaches A's object after the answer (waitUntil); the admin status reads it from there.
      await expect
        .poll(async () => (await accountsStatus())[0], { timeout: 15_000 })
        .toMatchObject({ name: "default", state: "cooling_down", cooldownUntil: resetsAt * 1000 });
      expect(JSON.parse(await readLocalKv(worker, "codex_proxy_usage:default"))).toMatchObject({
        cooldownUntil: resetsAt * 1000,
        cooldownState: "cooling_down",
      });
      // The next conversation goes straight to B.
      const next = responsesSoFar();
      expect((await chat("next conversation")).status).toBe(200);
      expect(accountsSeen(next)).toEqual(["acct_b"]);
    },
    READS_KV_TIMEOUT_MS,
  );

  it("answers 429 with the earliest reset in Retry-After when every account is at its limit", async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 1800;
    backend.limitAccount("acct_b", { resetsAt });
    const res = await chat("nobody left");
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("retry-after"));
    // B's reset (in 30 minutes) is earlier than A's (in an hour).
    expect(retryAfter).toBeGreaterThan(1700);
    expect(retryAfter).toBeLessThanOrEqual(1800);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: "usage_limit_reached", type: "usage_limit_reached", resets_at: resetsAt });
    expect(body.error.message).toMatch(/All 2 accounts/);
  });
});
