/**
 * Several accounts on the Worker under wrangler's local runtime (workerd,
 * local KV and Durable Objects) against the fake backend and issuer: a
 * Worker from before pools keeps its login, `?account=` on the admin push,
 * the accounts in the admin status and in `status --worker-url`.
 * (worker-accounts.test.ts sets the races up exactly in Node.)
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { runCliInProcess, tempHome } from "../helpers/cli.js";
import { readLocalKv, readLocalKvKeys, startLocalWorker, writeLocalKv, type LocalWorker } from "../helpers/worker.js";

const ADMIN = "worker-pool-admin-key-0123456789";
/** Tests that read KV through the wrangler CLI (a process per read): a hang-catcher for a loaded machine, not a timing assertion. */
const READS_KV_TIMEOUT_MS = 120_000;
let backend: FakeCodexBackend;
let oauth: FakeOAuthServer;
let worker: LocalWorker;
/** The login the Worker held before pools existed: KV only, under the key it always had. */
let old: { accessToken: string; refreshToken: string; expiresAt: number };

beforeAll(async () => {
  oauth = await startFakeOAuthServer({ email: "old@example.com", plan: "plus" });
  backend = await startFakeCodexBackend({ issuers: [oauth] });
  const persistDir = tempHome("wrangler-state-");
  const tokens = oauth.issueTokens();
  // Due for a refresh (within the hour before expiry), so the first requests go through the default object.
  old = { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresAt: Date.now() + 10 * 60_000 };
  await writeLocalKv(persistDir, "codex_proxy_credentials", JSON.stringify({ ...old, accountId: "acct_fake_123" }));
  worker = await startLocalWorker(
    { ADMIN_API_KEY: ADMIN, CODEX_BASE_URL: backend.url, CODEX_AUTH_ISSUER: oauth.issuer },
    { persistDir },
  );
}, 90_000);
afterAll(async () => {
  await worker?.stop();
  await backend?.close();
  await oauth?.close();
});

const adminHeaders = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
const getStatus = async () => (await fetch(`${worker.url}/admin/credentials/status`, { headers: adminHeaders })).json();
const SEED_FIELDS = [
  "type",
  "hasCredentials",
  "userID",
  "expiresAt",
  "minutesUntilExpiry",
  "isExpired",
  "needsRefreshSoon",
];

async function pushAccount(account: string | undefined, expiresInMs = 5 * 3600_000) {
  const tokens = oauth.issueTokens();
  const query = account === undefined ? "" : `?account=${encodeURIComponent(account)}`;
  const expiresAt = Date.now() + expiresInMs;
  const res = await fetch(`${worker.url}/admin/credentials${query}`, {
    method: "POST",
    headers: adminHeaders,
    body: JSON.stringify({ accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresAt }),
  });
  return { res, tokens, expiresAt };
}

describe("accounts on the Worker", () => {
  it(
    "keeps the login of a Worker from before pools: it serves, refreshes once, and is listed as the default account",
    async () => {
      const before = { refreshes: oauth.refreshCount, reused: oauth.reusedCount };
      const client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: ADMIN, maxRetries: 0 });
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "old" }] }),
        ),
      );
      expect(answers.map((a) => a.choices[0]!.message.content)).toEqual(Array(5).fill("Echo: old"));
      expect(oauth.refreshCount - before.refreshes).toBe(1);
      expect(oauth.reusedCount - before.reused).toBe(0);
      const rotated = JSON.parse(await readLocalKv(worker, "codex_proxy_credentials"));
      expect(rotated.accessToken).not.toBe(old.accessToken);

      // The usage windows the backend sent reach the account's object after the answers (waitUntil).
      await expect
        .poll(async () => (await getStatus()).accounts?.[0]?.rateLimits?.windows?.length, { timeout: 15_000 })
        .toBe(2);
      const status = await getStatus();
      expect(Object.keys(status).slice(0, 7)).toEqual(SEED_FIELDS);
      expect(status).toMatchObject({ type: "oauth", hasCredentials: true, userID: "user-fake-1", isExpired: false });
      expect(status.accounts).toEqual([
        {
          name: "default",
          email: "old@example.com",
          plan: "plus",
          expiresAt: rotated.expiresAt,
          state: "ready",
          rateLimits: expect.anything(),
        },
      ]);
      expect(status.accounts[0].rateLimits.windows.map((w: { windowMinutes: number }) => w.windowMinutes)).toEqual([
        300, 10080,
      ]);
    },
    READS_KV_TIMEOUT_MS,
  );

  it(
    "adds a named account with ?account=, keeps the default's status fields as they were, and lists both",
    async () => {
      const defaultBefore = await getStatus();
      const work = await pushAccount("work");
      const { res, tokens } = work;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "success", message: "Credentials updated successfully" });

      const status = await getStatus();
      const { accounts, ...seed } = status;
      const { accounts: _before, ...seedBefore } = defaultBefore;
      expect(seed).toEqual(seedBefore);
      expect(Object.keys(status).slice(0, 7)).toEqual(SEED_FIELDS);
      expect(accounts.map((a: { name: string; state: string }) => [a.name, a.state])).toEqual([
        ["default", "ready"],
        ["work", "ready"],
      ]);
      // Each account has its own KV copy; the registry's copy lists both for the isolates.
      const kv = await readLocalKvKeys(worker, ["codex_proxy_credentials:work", "codex_proxy_accounts"]);
      expect(JSON.parse(kv["codex_proxy_credentials:work"]!).accessToken).toBe(tokens.access_token);
      expect(JSON.parse(kv.codex_proxy_accounts!)).toEqual({
        accounts: [{ name: "default" }, { name: "work" }],
      });

      // A push without ?account= still replaces the default account, and only it.
      const again = await pushAccount(undefined, 3 * 3600_000);
      expect(again.res.status).toBe(200);
      const after = await getStatus();
      expect(after.expiresAt).toBe(again.expiresAt);
      expect(after.accounts.map((a: { expiresAt: number }) => a.expiresAt)).toEqual([again.expiresAt, work.expiresAt]);
    },
    READS_KV_TIMEOUT_MS,
  );

  it("refuses an invalid account name with a 400 in the admin error shape, storing nothing", async () => {
    for (const name of ["", "../etc", "a b", "-dash", "x".repeat(65)]) {
      const { res } = await pushAccount(name);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error).toMatchObject({
        type: "invalid_request_error",
        param: "account",
        code: "invalid_account_name",
      });
      expect(body.error.message).toMatch(/Invalid account name/);
    }
    expect((await getStatus()).accounts.map((a: { name: string }) => a.name)).toEqual(["default", "work"]);
  });

  it("status --worker-url shows every account, as text and as JSON", async () => {
    const home = tempHome();
    const human = await runCliInProcess(["status", "--worker-url", worker.url, "--admin-key", ADMIN], {
      CODEX_PROXY_HOME: home,
    });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Credentials: ${worker.url}`);
    expect(human.stdout).toContain("Accounts on the Worker (2):");
    expect(human.stdout).toMatch(/^ {2}default +ready — plus — token expires in /m);
    expect(human.stdout).toMatch(/^ {2}work +ready — plus — token expires in /m);

    const json = await runCliInProcess(["status", "--worker-url", worker.url, "--admin-key", ADMIN, "--json"], {
      CODEX_PROXY_HOME: home,
    });
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout);
    expect(Object.keys(status).slice(0, 7)).toEqual(SEED_FIELDS);
    expect(status.accounts.map((a: { name: string }) => a.name)).toEqual(["default", "work"]);
    for (const token of oauth.accessTokens) expect(human.stdout + json.stdout).not.toContain(token);
  });

  it(
    "push-credentials --name hands one local account to the Worker and marks only that one handed off",
    async () => {
      const home = tempHome("push-name-");
      const tokens = oauth.issueTokens();
      const env = { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer };
      const login = await runCliInProcess(
        ["login", "--name", "spare", "--access-token", tokens.access_token, "--refresh-token", tokens.refresh_token],
        env,
      );
      expect(login.code, login.stderr).toBe(0);
      const push = await runCliInProcess(
        ["push-credentials", "--name", "spare", "--worker-url", worker.url, "--admin-key", ADMIN],
        env,
      );
      expect(push.code, push.stderr).toBe(0);
      const status = await getStatus();
      expect(status.accounts.map((a: { name: string }) => a.name)).toContain("spare");
      // The pushed login serves: a request pinned to it is answered with its account's token.
      const pinned = await fetch(`${worker.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...adminHeaders, "x-codex-account": "spare" },
        body: JSON.stringify({ messages: [{ role: "user", content: "spare?" }] }),
      });
      expect(pinned.status).toBe(200);
      expect(backend.requests.at(-1)?.headers.authorization).toBe(`Bearer ${tokens.access_token}`);
      const local = await runCliInProcess(["accounts", "--json"], env);
      const spare = (JSON.parse(local.stdout) as Array<{ name: string; handedOffTo?: string }>).find(
        (a) => a.name === "spare",
      );
      expect(spare?.handedOffTo).toBe(worker.url);
    },
    READS_KV_TIMEOUT_MS,
  );
});
