/**
 * `serve` as a real process, for what only a process shows: the credentials
 * another process stored, the port it takes, what it prints (never a secret),
 * a closed stdout, and SIGTERM. The commands around it run in-process.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { runCli, runCliInProcess, startCli, tempHome } from "../helpers/cli.js";
import { accessToken } from "../helpers/jwt.js";

let backend: FakeCodexBackend;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
});
afterAll(async () => {
  await backend?.close();
});
beforeEach(() => backend.reset());

describe("usage visibility", () => {
  it("remembers the x-codex rate-limit windows: GET /v1/usage and `status` show them", async () => {
    const home = tempHome();
    const access = accessToken({ accountId: "acct_usage" });
    backend.acceptToken(access);
    await runCliInProcess(["login", "--access-token", access, "--refresh-token", "rt_usage_test_token_value"], {
      CODEX_PROXY_HOME: home,
    });
    const serve = startCli(["serve", "--port", "0"], {
      CODEX_PROXY_HOME: home,
      CODEX_BASE_URL: backend.url,
      PROXY_API_KEY: "usage-key-123456",
    });
    const url = (await serve.waitFor(/listening on (http:\/\/\S+)/))[1]!;
    const headers = { authorization: "Bearer usage-key-123456", "content-type": "application/json" };
    expect((await fetch(`${url}/v1/usage`)).status).toBe(401);
    const chat = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chat.status, await chat.clone().text()).toBe(200);
    const usage = await (await fetch(`${url}/v1/usage`, { headers })).json();
    expect(usage.rate_limits.windows[0]).toMatchObject({ label: "5-hour", usedPercent: 12.5, windowMinutes: 300 });
    expect(usage.rate_limits.windows[1]).toMatchObject({ label: "weekly", usedPercent: 40, windowMinutes: 10080 });
    expect(usage.rate_limits.windows[0].resetsAt).toBeGreaterThan(Date.now() / 1000);
    serve.child.kill("SIGTERM");
    await serve.exited;
    const status = await runCliInProcess(["status"], { CODEX_PROXY_HOME: home });
    // As bars, each labelled by its window's length.
    expect(status.stdout).toMatch(/5-hour {2}\[###-----------------\] 12\.5% · resets in/);
    expect(status.stdout).toMatch(/weekly {2}\[########------------\] 40%/);
    const json = JSON.parse((await runCliInProcess(["status", "--json"], { CODEX_PROXY_HOME: home })).stdout);
    expect(json.rateLimits.windows[0].usedPercent).toBe(12.5);
  });
});

describe("serve on a port", () => {
  it("serve --port 0 takes a free port of its own; a taken port is refused with a message, not a crash", async () => {
    const home = tempHome();
    const env = { CODEX_PROXY_HOME: home, CODEX_BASE_URL: backend.url, ACCESS_TOKEN: "port-test-token" };
    const servers = [startCli(["serve", "--port", "0"], env), startCli(["serve", "--port", "0"], env)];
    try {
      const urls = await Promise.all(servers.map(async (s) => (await s.waitFor(/listening on (http:\/\/\S+)/))[1]!));
      const ports = urls.map((url) => Number(new URL(url).port));
      // get-port-please reads 0 as "unset" and defaults to 3000 unless asked for a random port.
      expect(ports[0]).not.toBe(ports[1]);
      expect(ports).not.toContain(3000);

      const taken = await runCli(["serve", "--port", String(ports[0])], env);
      expect(taken.code).toBe(1);
      expect(taken.stderr).toMatch(new RegExp(`Port ${ports[0]} on 127\\.0\\.0\\.1 is already in use`));
      expect(taken.stderr).not.toMatch(/at .*\.js:\d+/); // a message, not a stack trace
    } finally {
      for (const server of servers) server.child.kill("SIGTERM");
      await Promise.all(servers.map((s) => s.exited));
    }
  });
});

describe("secrets and shutdown", () => {
  it("a full session through serve never shows a token or key in any output", async () => {
    const home = tempHome();
    const access = accessToken({ accountId: "acct_s", signature: "secret-sig" });
    backend.acceptToken(access);
    const refresh = "rt_secret_refresh_token_value_1234567890";
    const proxyKey = "proxy-secret-key-abcdef123456";
    const adminKey = "admin-secret-key-abcdef123456";
    const login = await runCliInProcess(["login", "--access-token", access, "--refresh-token", refresh], {
      CODEX_PROXY_HOME: home,
    });
    const serve = startCli(["serve", "--port", "0"], {
      CODEX_PROXY_HOME: home,
      CODEX_BASE_URL: backend.url,
      PROXY_API_KEY: proxyKey,
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: "debug",
    });
    const url = (await serve.waitFor(/listening on (http:\/\/\S+)/))[1]!;
    const bodies: string[] = [];
    const call = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${url}${path}`, init);
      bodies.push(JSON.stringify([...res.headers]), await res.text());
    };
    const json = { "content-type": "application/json", authorization: `Bearer ${proxyKey}` };
    await call("/v1/chat/completions", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    });
    await call("/v1/chat/completions", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], stream: true }),
    });
    await call("/v1/responses", { method: "POST", headers: json, body: JSON.stringify({ input: "hi", stream: true }) });
    await call("/v1/models", { headers: json });
    await call("/v1/usage", { headers: json });
    await call("/v1/models", { headers: { authorization: `Bearer ${proxyKey}x` } });
    await call("/v1/chat/completions", { method: "POST", headers: json, body: "{bad" });
    await call("/health");
    await call("/admin/credentials/status", { headers: { authorization: `Bearer ${adminKey}` } });
    await call("/admin/credentials/status", { headers: { authorization: `Bearer ${access}` } });
    backend.enqueue(
      { kind: "http", status: 401, body: '{"detail":"Unauthorized"}' },
      { kind: "http", status: 401, body: '{"detail":"Unauthorized"}' },
    );
    await call("/v1/chat/completions", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    });
    const status = await runCliInProcess(["status"], { CODEX_PROXY_HOME: home });
    const statusJson = await runCliInProcess(["status", "--json"], { CODEX_PROXY_HOME: home });
    serve.child.kill("SIGTERM");
    expect(await serve.exited).toBe(0);

    const everything = [
      login.stdout,
      login.stderr,
      serve.output(),
      status.stdout,
      status.stderr,
      statusJson.stdout,
      ...bodies,
    ].join("\n");
    for (const secret of [access, refresh, proxyKey, adminKey, access.split(".")[2]!])
      expect(everything).not.toContain(secret);
    expect(serve.output()).toMatch(/request/);
  });

  it("keeps serving when its stdout is closed (`serve | head`)", async () => {
    const serve = startCli(["serve", "--port", "0"], { CODEX_PROXY_HOME: tempHome(), CODEX_BASE_URL: backend.url });
    const url = (await serve.waitFor(/listening on (http:\/\/\S+)/))[1]!;
    serve.child.stdout.destroy();
    serve.child.stderr.destroy();
    for (let i = 0; i < 3; i++) expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(serve.child.exitCode).toBeNull();
    serve.child.kill("SIGTERM");
    await serve.exited;
  });

  it("SIGTERM lets an open stream finish, then exits 0", async () => {
    const home = tempHome();
    const access = accessToken();
    backend.acceptToken(access);
    backend.enqueue({ kind: "slow", text: "finishing gracefully", deltaCount: 5, delayMs: 200 });
    const serve = startCli(["serve", "--port", "0"], {
      ACCESS_TOKEN: access,
      ACCOUNT_ID: "acct",
      CODEX_PROXY_HOME: home,
      CODEX_BASE_URL: backend.url,
    });
    const url = (await serve.waitFor(/listening on (http:\/\/\S+)/))[1]!;
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "x" }], stream: true }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    serve.child.kill("SIGTERM");
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('"finish_reason":"stop"');
    expect(text).toContain("[DONE]");
    expect(await serve.exited).toBe(0);
  });
});
