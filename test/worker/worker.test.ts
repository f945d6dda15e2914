/**
 * The Worker under wrangler's local runtime (workerd + local KV + Durable
 * Objects) against the fake backend and issuer: admin API, push and status
 * from the CLI, streaming through the Worker, refresh coordination, the
 * Cloudflare challenge, and `wrangler deploy --dry-run`.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { runCli, tempHome } from "../helpers/cli.js";
import { QUIET_WRANGLER_ENV, startLocalWorker, type LocalWorker } from "../helpers/worker.js";

const ADMIN = "worker-admin-key-0123456789";
let backend: FakeCodexBackend;
let oauth: FakeOAuthServer;
let worker: LocalWorker;

beforeAll(async () => {
  oauth = await startFakeOAuthServer({ email: "edge@example.com" });
  backend = await startFakeCodexBackend({ acceptedTokens: [] });
  oauth.onAccessToken((token) => backend.acceptToken(token));
  worker = await startLocalWorker({ ADMIN_API_KEY: ADMIN, CODEX_BASE_URL: backend.url, CODEX_AUTH_ISSUER: oauth.issuer });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await backend?.close();
  await oauth?.close();
});

const adminHeaders = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

async function push(expiresInMs: number) {
  const tokens = oauth.issueTokens();
  const res = await fetch(`${worker.url}/admin/credentials`, { method: "POST", headers: adminHeaders, body: JSON.stringify({ accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresAt: Date.now() + expiresInMs }) });
  expect(res.status).toBe(200);
  return tokens;
}

describe("admin API on the Worker", () => {
  it("enforces the key matrix and validates the body", async () => {
    const status = (headers: Record<string, string>) => fetch(`${worker.url}/admin/credentials/status`, { headers }).then((r) => r.status);
    expect(await status({})).toBe(401);
    expect(await status({ authorization: "Bearer wrong" })).toBe(401);
    expect(await status({ authorization: ADMIN })).toBe(401);
    expect(await status({ authorization: `Bearer ${ADMIN}` })).toBe(200);
    expect(await status({ "x-api-key": ADMIN })).toBe(200);
    const bad = await fetch(`${worker.url}/admin/credentials`, { method: "POST", headers: adminHeaders, body: JSON.stringify({ refreshToken: "r" }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/accessToken, expiresAt/);
  });

  it("never runs /v1 open: without a key 401, with the admin key (no PROXY_API_KEY) allowed", async () => {
    await push(5 * 3600_000);
    expect((await fetch(`${worker.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${worker.url}/v1/models`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
  });
});

describe("proxying through the Worker", () => {
  it("streams chat and responses with real clients", async () => {
    await push(5 * 3600_000);
    const client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: ADMIN, maxRetries: 0 });
    backend.enqueue({ kind: "text", text: "edge chat works", deltaCount: 3 });
    let chat = "";
    for await (const chunk of await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }], stream: true })) chat += chunk.choices[0]?.delta.content ?? "";
    expect(chat).toBe("edge chat works");

    backend.enqueue({ kind: "text", text: "edge responses work" });
    const final = await client.responses.stream({ model: "gpt-5.5", input: "hi" }).finalResponse();
    expect(final.output_text).toBe("edge responses work");
  });

  it("refreshes an expiring token once for concurrent requests and writes it back to KV", async () => {
    await push(10 * 60_000);
    const before = oauth.refreshCount;
    oauth.setRefreshDelay(200);
    const client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: ADMIN, maxRetries: 0 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] }))).catch((e) => {
      console.log(worker.output().slice(-3000));
      throw e;
    });
    oauth.setRefreshDelay(0);
    expect(answers.every((a) => a.choices[0]!.message.content === "Echo: hi")).toBe(true);
    expect(oauth.refreshCount - before).toBe(1);
    expect(oauth.reusedCount).toBe(0);
    const status = await (await fetch(`${worker.url}/admin/credentials/status`, { headers: adminHeaders })).json();
    expect(status.minutesUntilExpiry).toBeGreaterThan(50);
  });

  it("maps the Cloudflare challenge to a 502 that says so", async () => {
    await push(5 * 3600_000);
    backend.enqueue({ kind: "http", status: 403, body: "<!DOCTYPE html><html><title>Just a moment...</title></html>", headers: { "content-type": "text/html" } });
    const res = await fetch(`${worker.url}/v1/chat/completions`, { method: "POST", headers: adminHeaders, body: JSON.stringify({ messages: [{ role: "user", content: "x" }] }) });
    expect(res.status).toBe(502);
    const message = (await res.json()).error.message as string;
    expect(message).toMatch(/Cloudflare/);
    expect(message).toMatch(/serve|tunnel/);
  });
});

describe("CLI against the local Worker", () => {
  it("push-credentials then status --worker-url, with the local copy handed off", async () => {
    const home = tempHome();
    const tokens = oauth.issueTokens();
    await runCli(["login", "--access-token", tokens.access_token, "--refresh-token", tokens.refresh_token], { CODEX_PROXY_HOME: home });
    const pushed = await runCli(["push-credentials", "--worker-url", worker.url], { CODEX_PROXY_HOME: home, ADMIN_API_KEY: ADMIN });
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain(`Pushed the credentials to ${worker.url}`);
    expect(pushed.stdout).not.toContain(tokens.refresh_token);
    const remote = await runCli(["status", "--worker-url", worker.url, "--admin-key", ADMIN, "--json"], { CODEX_PROXY_HOME: home });
    expect(remote.code).toBe(0);
    expect(JSON.parse(remote.stdout)).toMatchObject({ type: "oauth", hasCredentials: true, userID: "user-fake-1" });
    const local = await runCli(["status"], { CODEX_PROXY_HOME: home });
    expect(local.stdout).toContain(`handed off to ${worker.url}`);
    const wrong = await runCli(["status", "--worker-url", worker.url, "--admin-key", "nope"], { CODEX_PROXY_HOME: home });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/rejected the admin key/);
  });
});

describe("a Worker without ADMIN_API_KEY", () => {
  it("fails closed: /admin/* and /v1/* answer 503", async () => {
    const bare = await startLocalWorker({ CODEX_BASE_URL: backend.url });
    try {
      const admin = await fetch(`${bare.url}/admin/credentials/status`, { headers: { authorization: "Bearer anything" } });
      expect(admin.status).toBe(503);
      expect((await admin.json()).error.message).toMatch(/admin API not configured/);
      expect((await fetch(`${bare.url}/v1/models`)).status).toBe(503);
    } finally {
      await bare.stop();
    }
  }, 60_000);
});

describe("wrangler deploy --dry-run", () => {
  it("bundles the Worker without a login", async () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const wrangler = fileURLToPath(new URL("../../node_modules/wrangler/bin/wrangler.js", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", tempHome("worker-bundle-")], {
      cwd: root,
      env: { ...process.env, ...QUIET_WRANGLER_ENV, CI: "true" },
    });
    expect(stdout).toMatch(/--dry-run: exiting now/);
    expect(stdout).toMatch(/REFRESH_COORDINATOR/);
  }, 60_000);
});
