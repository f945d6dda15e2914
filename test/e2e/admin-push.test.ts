/**
 * The admin API on `serve` (ADMIN_API_KEY set) and the CLI commands that
 * use it: push-credentials (hand-off) and status --worker-url.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfCredentialStore } from "../../src/node/conf-store.js";
import { TokenManager } from "../../src/credentials/token-manager.js";
import { silentLogger } from "../../src/core/logging.js";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { runCliInProcess, tempHome } from "../helpers/cli.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const ADMIN_KEY = "admin-key-for-tests-0123456789";
let backend: FakeCodexBackend;
let oauth: FakeOAuthServer;
let proxy: TestProxy;
let remoteStore: ConfCredentialStore;

beforeAll(async () => {
  oauth = await startFakeOAuthServer();
  backend = await startFakeCodexBackend({ issuers: [oauth] });
  remoteStore = new ConfCredentialStore({ cwd: tempHome("remote-") });
  const auth = new TokenManager({
    store: remoteStore,
    issuer: oauth.issuer,
    fetch,
    now: Date.now,
    logger: silentLogger,
  });
  proxy = await startTestProxy({
    codexBaseUrl: backend.url,
    auth,
    store: remoteStore,
    env: { ADMIN_API_KEY: ADMIN_KEY },
  });
});
afterAll(async () => {
  await proxy?.close(100);
  await backend?.close();
  await oauth?.close();
});

const admin = (pathname: string, init: RequestInit = {}) => fetch(`${proxy.url}${pathname}`, init);

describe("admin API", () => {
  it("requires the key: none, wrong, malformed → 401; Bearer and X-API-Key → 200", async () => {
    expect((await admin("/admin/credentials/status")).status).toBe(401);
    expect((await admin("/admin/credentials/status", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect(
      (await admin("/admin/credentials/status", { headers: { authorization: `Basic ${ADMIN_KEY}` } })).status,
    ).toBe(401);
    expect(
      (await admin("/admin/credentials/status", { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status,
    ).toBe(200);
    expect((await admin("/admin/credentials/status", { headers: { "x-api-key": ADMIN_KEY } })).status).toBe(200);
    expect((await admin("/admin/credentials", { method: "GET", headers: { "x-api-key": ADMIN_KEY } })).status).toBe(
      405,
    );
  });

  it("validates the body, naming what is missing or malformed", async () => {
    const post = (body: unknown) =>
      admin("/admin/credentials", {
        method: "POST",
        headers: { "x-api-key": ADMIN_KEY, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const missing = await post({ accessToken: "a" });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.message).toMatch(/refreshToken, expiresAt/);
    const seconds = await post({ accessToken: "a", refreshToken: "b", expiresAt: 1_800_000_000 });
    expect((await seconds.json()).error.message).toMatch(/milliseconds/);
    const wrongType = await post({ accessToken: 5, refreshToken: "b", expiresAt: Date.now() + 1000 });
    expect((await wrongType.json()).error.param).toBe("accessToken");
  });

  it("stores pushed credentials and reports the exact status shape", async () => {
    const tokens = oauth.issueTokens();
    const expiresAt = Date.now() + 120 * 60_000 + 30_000;
    const res = await admin("/admin/credentials", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        expiresAt,
        userID: "pushed-user",
      }),
    });
    expect(await res.json()).toEqual({ status: "success", message: "Credentials updated successfully" });
    const status = await (
      await admin("/admin/credentials/status", { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).json();
    expect(status).toMatchObject({
      type: "oauth",
      hasCredentials: true,
      userID: "user-fake-1",
      expiresAt,
      minutesUntilExpiry: 120,
      isExpired: false,
      needsRefreshSoon: false,
    });
    expect((await remoteStore.get())!.accountId).toBe("acct_fake_123");
  });
});

describe("push-credentials and status --worker-url", () => {
  it("pushes the local chain, prints the remote status and marks the local copy handed off", async () => {
    const home = tempHome();
    const tokens = oauth.issueTokens();
    await runCliInProcess(["login", "--access-token", tokens.access_token, "--refresh-token", tokens.refresh_token], {
      CODEX_PROXY_HOME: home,
    });
    const push = await runCliInProcess(["deploy", "--worker-url", proxy.url, "--admin-key", ADMIN_KEY], {
      CODEX_PROXY_HOME: home,
    });
    expect(push.code).toBe(0);
    expect(push.stdout).toContain(`Pushed the credentials to ${proxy.url}`);
    expect(push.stdout + push.stderr).not.toContain(tokens.refresh_token);
    expect((await remoteStore.get())!.refreshToken).toBe(tokens.refresh_token);
    const local = JSON.parse(readFileSync(path.join(home, "credentials.json"), "utf8")).credentials;
    expect(local.handedOffTo).toBe(proxy.url);

    const localStatus = await runCliInProcess(["status"], { CODEX_PROXY_HOME: home });
    expect(localStatus.stdout).toContain(`handed off to ${proxy.url}`);

    const remote = await runCliInProcess(["status", "--worker-url", proxy.url, "--json"], {
      CODEX_PROXY_HOME: home,
      ADMIN_API_KEY: ADMIN_KEY,
    });
    expect(remote.code).toBe(0);
    expect(JSON.parse(remote.stdout)).toMatchObject({ type: "oauth", hasCredentials: true });

    // The chain now belongs to the remote proxy: it serves requests with it.
    const chat = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chat.status).toBe(200);
  });

  it("push-credentials --login --device --json prints only JSON on stdout, the sign-in steps on stderr", async () => {
    const home = tempHome();
    const pushed = await runCliInProcess(
      ["push-credentials", "--login", "--device", "--json", "--worker-url", proxy.url, "--admin-key", ADMIN_KEY],
      {
        CODEX_PROXY_HOME: home,
        CODEX_AUTH_ISSUER: oauth.issuer,
      },
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ type: "oauth", hasCredentials: true });
    expect(pushed.stderr).toMatch(/enter the code/);
  });

  it("says clearly when the key is wrong, the URL is bad, nothing answers or the answer is not JSON", async () => {
    const home = tempHome();
    const tokens = oauth.issueTokens();
    await runCliInProcess(["login", "--access-token", tokens.access_token, "--refresh-token", tokens.refresh_token], {
      CODEX_PROXY_HOME: home,
    });
    const wrongKey = await runCliInProcess(["push-credentials", "--worker-url", proxy.url, "--admin-key", "nope"], {
      CODEX_PROXY_HOME: home,
    });
    expect(wrongKey.code).not.toBe(0);
    expect(wrongKey.stderr).toMatch(/rejected the admin key/);
    const badUrl = await runCliInProcess(["status", "--worker-url", "not a url", "--admin-key", "k"], {
      CODEX_PROXY_HOME: home,
    });
    expect(badUrl.stderr).toMatch(/is not a URL/);
    const unreachable = await runCliInProcess(["status", "--worker-url", "http://127.0.0.1:9", "--admin-key", "k"], {
      CODEX_PROXY_HOME: home,
    });
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(/Could not reach/);
    const notJson = await runCliInProcess(
      ["status", "--worker-url", `${oauth.issuer}/oauth/authorize`, "--admin-key", "k"],
      {
        CODEX_PROXY_HOME: home,
      },
    );
    expect(notJson.stderr).toMatch(/not JSON|does not exist/);
    const noKey = await runCliInProcess(["status", "--worker-url", proxy.url], { CODEX_PROXY_HOME: home });
    expect(noKey.stderr).toMatch(/--admin-key/);
    // The local chain is untouched by failed pushes.
    expect(
      JSON.parse(readFileSync(path.join(home, "credentials.json"), "utf8")).credentials.handedOffTo,
    ).toBeUndefined();
  });
});
