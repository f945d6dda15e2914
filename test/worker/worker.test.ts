/**
 * The Worker under wrangler's local runtime (workerd + local KV + Durable
 * Objects) against the fake backend and issuer: admin API, push and status
 * from the CLI, streaming through the Worker, refresh coordination and the
 * Cloudflare challenge. (Setting it up: worker-setup.test.ts.)
 */
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEX_CLIENT_ID } from "../../src/auth/constants.js";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { runCliInProcess, tempHome } from "../helpers/cli.js";
import { accessToken } from "../helpers/jwt.js";
import { freePort, readLocalKv, startLocalWorker, type LocalWorker } from "../helpers/worker.js";

const ADMIN = "worker-admin-key-0123456789";
let backend: FakeCodexBackend;
let oauth: FakeOAuthServer;
let worker: LocalWorker;

beforeAll(async () => {
  oauth = await startFakeOAuthServer({ email: "edge@example.com" });
  backend = await startFakeCodexBackend({ issuers: [oauth] });
  worker = await startLocalWorker({
    ADMIN_API_KEY: ADMIN,
    CODEX_BASE_URL: backend.url,
    CODEX_AUTH_ISSUER: oauth.issuer,
  });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await backend?.close();
  await oauth?.close();
});

const adminHeaders = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
const getStatus = async () => (await fetch(`${worker.url}/admin/credentials/status`, { headers: adminHeaders })).json();

async function push(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${worker.url}/admin/credentials`, {
    method: "POST",
    headers: adminHeaders,
    body: JSON.stringify(body),
  });
}

async function pushFresh(expiresInMs: number) {
  const tokens = oauth.issueTokens();
  const res = await push({
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + expiresInMs,
  });
  expect(res.status).toBe(200);
  return tokens;
}

/** An unsigned JWT shaped like the real access token, that the fake backend has never seen. */
const craftedAccessToken = (claims: Record<string, unknown>) => accessToken({ expiresInSeconds: 5 * 3600, claims });

const chat = (key = ADMIN) =>
  fetch(`${worker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
  });

describe("admin API on the Worker", () => {
  it("reports an empty Worker exactly, and the CLI says how to fill it (exit 1)", async () => {
    expect(await getStatus()).toEqual({ type: "oauth", hasCredentials: false, accounts: [] });
    expect((await fetch(`${worker.url}/health`).then((r) => r.json())).hasCredentials).toBe(false);
    const status = await runCliInProcess(["status", "--worker-url", worker.url, "--admin-key", ADMIN], {
      CODEX_PROXY_HOME: tempHome(),
    });
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`No credentials in the Worker at ${worker.url}`);
    expect(status.stdout).toContain("push-credentials");
  });

  it("enforces the key matrix: none, wrong, malformed → 401; Bearer and X-API-Key → 200; wrong method → 405", async () => {
    const status = (headers: Record<string, string>) =>
      fetch(`${worker.url}/admin/credentials/status`, { headers }).then((r) => r.status);
    expect(await status({})).toBe(401);
    expect(await status({ authorization: "Bearer wrong" })).toBe(401);
    expect(await status({ authorization: ADMIN })).toBe(401);
    expect(await status({ authorization: `Basic ${ADMIN}` })).toBe(401);
    expect(await status({ authorization: "Bearer " })).toBe(401);
    expect(await status({ "x-api-key": "wrong" })).toBe(401);
    expect(await status({ authorization: `Bearer ${ADMIN}` })).toBe(200);
    expect(await status({ "x-api-key": ADMIN })).toBe(200);
    const wrongMethod = await fetch(`${worker.url}/admin/credentials`, { headers: adminHeaders });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(
      (await fetch(`${worker.url}/admin/credentials/status`, { method: "POST", headers: adminHeaders })).status,
    ).toBe(405);
  });

  it("validates the body, naming what is missing or malformed", async () => {
    const message = async (body: unknown) => {
      const res = await fetch(`${worker.url}/admin/credentials`, {
        method: "POST",
        headers: adminHeaders,
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      return (await res.json()).error as { message: string; param: string | null };
    };
    expect((await message({ refreshToken: "r" })).message).toMatch(/accessToken, expiresAt/);
    expect((await message({})).message).toMatch(/accessToken, refreshToken, expiresAt/);
    expect((await message({ accessToken: 1, refreshToken: "r", expiresAt: Date.now() + 1000 })).param).toBe(
      "accessToken",
    );
    expect((await message({ accessToken: "a", refreshToken: "r", expiresAt: "soon" })).message).toMatch(
      /expiresAt must be a positive number/,
    );
    expect((await message({ accessToken: "a", refreshToken: "r", expiresAt: -5 })).message).toMatch(
      /expiresAt must be a positive number/,
    );
    expect((await message({ accessToken: "a", refreshToken: "r", expiresAt: 1_800_000_000 })).message).toMatch(
      /milliseconds/,
    );
    expect((await message("{not json")).message).toMatch(/JSON/i);
  });

  it("stores a push and reports the exact status shape; userID from the token, else the pushed one", async () => {
    const tokens = oauth.issueTokens();
    const expiresAt = Date.now() + 120 * 60_000 + 30_000;
    const res = await push({
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt,
      userID: "pushed-user",
    });
    expect(await res.json()).toEqual({ status: "success", message: "Credentials updated successfully" });
    const status = await getStatus();
    expect(Object.keys(status).slice(0, 7)).toEqual([
      "type",
      "hasCredentials",
      "userID",
      "expiresAt",
      "minutesUntilExpiry",
      "isExpired",
      "needsRefreshSoon",
    ]);
    expect(status).toMatchObject({
      type: "oauth",
      hasCredentials: true,
      userID: "user-fake-1",
      expiresAt,
      minutesUntilExpiry: 120,
      isExpired: false,
      needsRefreshSoon: false,
      accountId: "acct_fake_123",
    });

    // No user id in the token: the pushed userID; the account id still comes from the JWT.
    const anonymous = craftedAccessToken({ "https://api.openai.com/auth": { chatgpt_account_id: "acct_from_jwt" } });
    await push({
      accessToken: anonymous,
      refreshToken: "rt_unused_0000000000000",
      expiresAt: Date.now() + 30 * 60_000 + 30_000,
      userID: "pushed-user",
    });
    expect(await getStatus()).toMatchObject({
      userID: "pushed-user",
      accountId: "acct_from_jwt",
      minutesUntilExpiry: 30,
      isExpired: false,
      needsRefreshSoon: true,
    });
  });
});

describe("/v1 on the Worker", () => {
  it("is never open: no key or a wrong key → 401; the admin key serves when PROXY_API_KEY is unset", async () => {
    await pushFresh(5 * 3600_000);
    expect((await fetch(`${worker.url}/v1/models`)).status).toBe(401);
    expect((await chat("wrong")).status).toBe(401);
    expect((await fetch(`${worker.url}/v1/models`, { headers: { "x-api-key": ADMIN } })).status).toBe(200);
    expect((await chat()).status).toBe(200);
  });

  it("streams chat and responses with the openai SDK", async () => {
    await pushFresh(5 * 3600_000);
    const client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: ADMIN, maxRetries: 0 });
    backend.enqueue({ kind: "text", text: "edge chat works", deltaCount: 3 });
    let text = "";
    for await (const chunk of await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    }))
      text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("edge chat works");

    backend.enqueue({ kind: "text", text: "edge responses work" });
    const final = await client.responses.stream({ model: "gpt-5.5", input: "hi" }).finalResponse();
    expect(final.output_text).toBe("edge responses work");
  });

  it("refreshes an expiring token once for concurrent requests and writes it to KV", async () => {
    await pushFresh(10 * 60_000);
    const before = { refreshes: oauth.refreshCount, reused: oauth.reusedCount };
    oauth.setRefreshDelay(200);
    const client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: ADMIN, maxRetries: 0 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] }),
      ),
    ).finally(() => oauth.setRefreshDelay(0));
    expect(answers.every((a) => a.choices[0]!.message.content === "Echo: hi")).toBe(true);
    expect(oauth.refreshCount - before.refreshes).toBe(1);
    expect(oauth.reusedCount - before.reused).toBe(0);
    const status = await getStatus();
    expect(status.minutesUntilExpiry).toBeGreaterThan(50);
    // The rotated tokens are in KV itself, where every isolate's hot path reads them.
    const stored = JSON.parse(await readLocalKv(worker, "codex_proxy_credentials"));
    expect(stored.expiresAt).toBe(status.expiresAt);
    expect(oauth.accessTokens.at(-1)).toBe(stored.accessToken);
  });

  it("refreshes once and retries when the backend rejects the token (401)", async () => {
    const tokens = oauth.issueTokens();
    const unknown = craftedAccessToken({ "https://api.openai.com/auth": { chatgpt_account_id: "acct_fake_123" } });
    await push({ accessToken: unknown, refreshToken: tokens.refresh_token, expiresAt: Date.now() + 5 * 3600_000 });
    const before = oauth.refreshCount;
    const res = await chat();
    expect(res.status).toBe(200);
    expect(oauth.refreshCount - before).toBe(1);
  });

  it("answers a chain spent elsewhere with 401 and what to do, and shows it in status", async () => {
    const tokens = await pushFresh(10 * 60_000);
    // A machine that kept its copy (--keep-local) refreshes first.
    const elsewhere = await fetch(`${oauth.issuer}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "refresh_token",
        client_id: CODEX_CLIENT_ID,
        refresh_token: tokens.refresh_token,
      }),
    });
    expect(elsewhere.status).toBe(200);
    const res = await chat();
    expect(res.status).toBe(401);
    const message = (await res.json()).error.message as string;
    expect(message).toMatch(/push-credentials --login/);
    expect(message).not.toContain(tokens.refresh_token);
    expect((await getStatus()).lastRefreshError).toMatch(/already used/);
  });

  it("maps the Cloudflare challenge to a 502 that says so", async () => {
    await pushFresh(5 * 3600_000);
    backend.enqueue({
      kind: "http",
      status: 403,
      body: "<!DOCTYPE html><html><title>Just a moment...</title></html>",
      headers: { "content-type": "text/html" },
    });
    const res = await chat();
    expect(res.status).toBe(502);
    const message = (await res.json()).error.message as string;
    expect(message).toMatch(/Cloudflare/);
    expect(message).toMatch(/serve|tunnel/);
  });
});

describe("CLI against the local Worker", () => {
  const login = async (home: string) => {
    const tokens = oauth.issueTokens();
    const result = await runCliInProcess(
      ["login", "--access-token", tokens.access_token, "--refresh-token", tokens.refresh_token],
      { CODEX_PROXY_HOME: home },
    );
    expect(result.code).toBe(0);
    return tokens;
  };
  const localRecord = (home: string) =>
    JSON.parse(readFileSync(path.join(home, "credentials.json"), "utf8")).credentials;

  it("push-credentials then status --worker-url, with the local copy handed off and not pushed twice", async () => {
    const home = tempHome();
    const tokens = await login(home);
    const pushed = await runCliInProcess(["push-credentials", "--worker-url", worker.url], {
      CODEX_PROXY_HOME: home,
      ADMIN_API_KEY: ADMIN,
    });
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain(`Pushed the credentials to ${worker.url}`);
    expect(pushed.stdout).toContain("handed off");
    expect(pushed.stdout + pushed.stderr).not.toContain(tokens.refresh_token);
    expect(pushed.stdout + pushed.stderr).not.toContain(tokens.access_token);
    expect(localRecord(home)).toMatchObject({ handedOffTo: worker.url, handedOffAt: expect.any(Number) });

    const remote = await runCliInProcess(["status", "--worker-url", worker.url, "--admin-key", ADMIN, "--json"], {
      CODEX_PROXY_HOME: home,
    });
    expect(remote.code).toBe(0);
    const status = JSON.parse(remote.stdout);
    expect(Object.keys(status).slice(0, 7)).toEqual([
      "type",
      "hasCredentials",
      "userID",
      "expiresAt",
      "minutesUntilExpiry",
      "isExpired",
      "needsRefreshSoon",
    ]);
    expect(status).toMatchObject({ type: "oauth", hasCredentials: true, userID: "user-fake-1", isExpired: false });
    const human = await runCliInProcess(["status", "--worker-url", worker.url, "--admin-key", ADMIN], {
      CODEX_PROXY_HOME: home,
    });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Credentials: ${worker.url}`);

    const local = await runCliInProcess(["status"], { CODEX_PROXY_HOME: home });
    expect(local.stdout).toContain(`handed off to ${worker.url}`);

    // The old copy may have been rotated by the Worker since: pushing it again is refused.
    const again = await runCliInProcess(["deploy", "--worker-url", worker.url, "--admin-key", ADMIN], {
      CODEX_PROXY_HOME: home,
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already handed off/);
  });

  it("--keep-local keeps the local chain (with a warning); --json prints the Worker's status", async () => {
    const home = tempHome();
    await login(home);
    const pushed = await runCliInProcess(
      ["push-credentials", "--worker-url", worker.url, "--admin-key", ADMIN, "--keep-local", "--json"],
      { CODEX_PROXY_HOME: home },
    );
    expect(pushed.code).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ type: "oauth", hasCredentials: true });
    expect(pushed.stderr).toMatch(/refresh_token_reused/);
    expect(localRecord(home).handedOffTo).toBeUndefined();
  });

  it("--login --device sends a fresh login to the Worker only", async () => {
    const home = tempHome();
    const before = oauth.accessTokens.length;
    const pushed = await runCliInProcess(
      ["push-credentials", "--login", "--device", "--worker-url", worker.url, "--admin-key", ADMIN],
      { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer },
    );
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain("ABCD-EFGH");
    expect(pushed.stdout).toContain("Worker only");
    expect(oauth.accessTokens.length).toBe(before + 1);
    expect(existsSync(path.join(home, "credentials.json")) ? localRecord(home) : undefined).toBeUndefined();
    expect((await getStatus()).minutesUntilExpiry).toBeGreaterThan(55);
  });

  it("says clearly when the key is wrong, nothing answers, or the answer is not JSON", async () => {
    const home = tempHome();
    await login(home);
    const wrong = await runCliInProcess(["status", "--worker-url", worker.url, "--admin-key", "nope"], {
      CODEX_PROXY_HOME: home,
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/rejected the admin key \(401\)/);
    const wrongPush = await runCliInProcess(["push-credentials", "--worker-url", worker.url, "--admin-key", "nope"], {
      CODEX_PROXY_HOME: home,
    });
    expect(wrongPush.code).toBe(1);
    expect(localRecord(home).handedOffTo).toBeUndefined();

    const unreachable = await runCliInProcess(
      ["status", "--worker-url", `http://127.0.0.1:${await freePort()}`, "--admin-key", ADMIN],
      { CODEX_PROXY_HOME: home },
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/Could not reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);

    const html = http.createServer((_req, res) =>
      res.writeHead(200, { "content-type": "text/html" }).end("<html>a login page</html>"),
    );
    await new Promise<void>((resolve) => html.listen(0, "127.0.0.1", resolve));
    try {
      const notJson = await runCliInProcess(
        ["status", "--worker-url", `http://127.0.0.1:${(html.address() as AddressInfo).port}`, "--admin-key", ADMIN],
        { CODEX_PROXY_HOME: home },
      );
      expect(notJson.code).toBe(1);
      expect(notJson.stderr).toMatch(/not JSON: is this a codex-proxy Worker/);
    } finally {
      html.close();
    }
    const noKey = await runCliInProcess(["status", "--worker-url", worker.url], { CODEX_PROXY_HOME: home });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/--admin-key/);
  });
});

describe("Worker logs", () => {
  it("never contain a token or the admin key", () => {
    const output = worker.output();
    expect(output).toMatch(/"msg":"request"/);
    expect(output).toMatch(/access token refreshed/);
    for (const token of oauth.accessTokens) expect(output).not.toContain(token);
    expect(output).not.toContain(ADMIN);
    expect(output).not.toMatch(/rt_fake_/);
  });
});
