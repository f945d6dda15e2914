/**
 * The token chain under load and over time, through real HTTP: the proxy,
 * the fake backend (accepting only tokens the fake issuer minted) and the
 * fake issuer (single-use rotating refresh tokens).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfCredentialStore } from "../../src/node/conf-store.js";
import { TokenManager } from "../../src/credentials/token-manager.js";
import { silentLogger } from "../../src/core/logging.js";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { runCliInProcess, startCli, tempHome } from "../helpers/cli.js";
import { startTestProxy } from "../helpers/proxy.js";

let backend: FakeCodexBackend;
let oauth: FakeOAuthServer;

beforeAll(async () => {
  oauth = await startFakeOAuthServer({ accessTokenTtlSeconds: 3600 });
  backend = await startFakeCodexBackend({ issuers: [oauth] });
});
afterAll(async () => {
  await backend?.close();
  await oauth?.close();
});
beforeEach(() => {
  oauth.setRefreshDelay(0);
});

async function storeWith(expiresInMs: number) {
  const store = new ConfCredentialStore({ cwd: tempHome() });
  const tokens = oauth.issueTokens();
  await store.set({
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + expiresInMs,
    accountId: "acct_fake_123",
  });
  return { store, tokens };
}

function chat(baseURL: string, text = "hi") {
  return fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: text }] }),
  });
}

describe("token manager through the proxy", () => {
  it("50 concurrent requests on an expiring token: exactly one refresh, 50 successes", async () => {
    const { store, tokens } = await storeWith(10 * 60_000); // inside the 60-minute window
    const auth = new TokenManager({ store, issuer: oauth.issuer, fetch, now: Date.now, logger: silentLogger });
    const proxy = await startTestProxy({ codexBaseUrl: backend.url, auth, store });
    oauth.setRefreshDelay(100); // widen the race window
    const before = oauth.refreshCount;
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => chat(proxy.baseURL, `n${i}`)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(oauth.refreshCount - before).toBe(1);
    expect(oauth.reusedCount).toBe(0);
    const saved = await store.get();
    expect(saved!.accessToken).not.toBe(tokens.access_token);
    expect(saved!.expiresAt).toBeGreaterThan(Date.now() + 50 * 60_000);
    await proxy.close(100);
  });

  it("on an upstream 401 refreshes once and retries once", async () => {
    const { store, tokens } = await storeWith(5 * 3600_000);
    const auth = new TokenManager({ store, issuer: oauth.issuer, fetch, now: Date.now, logger: silentLogger });
    const proxy = await startTestProxy({ codexBaseUrl: backend.url, auth, store });
    backend.rejectToken(tokens.access_token);
    const before = oauth.refreshCount;
    const response = await chat(proxy.baseURL);
    expect(response.status).toBe(200);
    expect(oauth.refreshCount - before).toBe(1);
    await proxy.close(100);
  });

  it("a terminal refresh error is not retried and reaches the client as a 401 naming codex-proxy login", async () => {
    const { store } = await storeWith(-60_000);
    const auth = new TokenManager({
      store,
      issuer: oauth.issuer,
      fetch,
      now: Date.now,
      logger: silentLogger,
      sleep: async () => {},
    });
    const proxy = await startTestProxy({ codexBaseUrl: backend.url, auth, store });
    oauth.failNextRefresh("terminal");
    const before = oauth.refreshCount;
    const response = await chat(proxy.baseURL);
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(body.error.message).toContain("codex-proxy login");
    expect(oauth.refreshCount - before).toBe(1);
    expect((await store.get())!.lastRefreshError).toMatch(/expired/);
    await proxy.close(100);
  });

  it("retries a transient refresh failure and a refresh token that was already rotated by another process is adopted", async () => {
    const { store } = await storeWith(-60_000);
    const auth = new TokenManager({
      store,
      issuer: oauth.issuer,
      fetch,
      now: Date.now,
      logger: silentLogger,
      sleep: async () => {},
    });
    oauth.failNextRefresh(503);
    const before = oauth.refreshCount;
    const first = await auth.getAuth();
    expect(oauth.refreshCount - before).toBe(2);

    // Another process rotates the chain behind this manager's back; the manager adopts instead of spending the old token.
    const other = new TokenManager({
      store: new ConfCredentialStore({ cwd: (store as ConfCredentialStore).path.replace(/\/credentials\.json$/, "") }),
      issuer: oauth.issuer,
      fetch,
      now: Date.now,
      logger: silentLogger,
    });
    const rotated = await other.refreshAfterUnauthorized(first);
    const adopted = await auth.refreshAfterUnauthorized(first);
    expect(adopted.accessToken).toBe(rotated.accessToken);
    expect(oauth.reusedCount).toBe(0);
  });
});

describe("serve across many expiries", () => {
  it("a running serve uses a login made in another terminal within about a second, without a restart", async () => {
    const home = tempHome();
    const first = oauth.issueTokens();
    await runCliInProcess(["login", "--access-token", first.access_token, "--refresh-token", first.refresh_token], {
      CODEX_PROXY_HOME: home,
    });
    const server = startCli(["serve", "--port", "0"], {
      CODEX_PROXY_HOME: home,
      CODEX_AUTH_ISSUER: oauth.issuer,
      CODEX_BASE_URL: backend.url,
      LOG_LEVEL: "warn",
    });
    try {
      const url = (await server.waitFor(/listening on (http:\/\/\S+)/))[1]!;
      const bearerOfLastRequest = () =>
        backend.requests.filter((r) => r.path.endsWith("/responses")).at(-1)?.headers.authorization;
      expect((await chat(`${url}/v1`)).status).toBe(200);
      expect(bearerOfLastRequest()).toBe(`Bearer ${first.access_token}`);

      const second = oauth.issueTokens();
      const login = await runCliInProcess(
        ["login", "--access-token", second.access_token, "--refresh-token", second.refresh_token],
        { CODEX_PROXY_HOME: home },
      );
      expect(login.code).toBe(0);
      // serve reuses a read of the credential file for up to a second.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await chat(`${url}/v1`)).status).toBe(200);
      expect(bearerOfLastRequest()).toBe(`Bearer ${second.access_token}`);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });

  it("two serve processes sharing one CODEX_PROXY_HOME keep one chain alive with short-lived tokens", async () => {
    const short = await startFakeOAuthServer({ accessTokenTtlSeconds: 3 });
    backend.acceptTokensFrom(short);
    const home = tempHome();
    const tokens = short.issueTokens();
    const login = await runCliInProcess(
      ["login", "--access-token", tokens.access_token, "--refresh-token", tokens.refresh_token],
      { CODEX_PROXY_HOME: home },
    );
    expect(login.code).toBe(0);

    const env = {
      CODEX_PROXY_HOME: home,
      CODEX_AUTH_ISSUER: short.issuer,
      CODEX_BASE_URL: backend.url,
      LOG_LEVEL: "warn",
    };
    const servers = [startCli(["serve", "--port", "0"], env), startCli(["serve", "--port", "0"], env)];
    const statuses: number[] = [];
    try {
      const urls = await Promise.all(servers.map(async (s) => (await s.waitFor(/listening on (http:\/\/\S+)/))[1]!));
      // Traffic until the chain has rotated three times (tokens live 3 s and refresh at half-life), and one
      // batch after that; bounded, so that a chain that stops rotating ends the loop and fails below.
      for (let batches = 0, after = 0; after < 1 && batches < 200; batches++) {
        if (short.refreshCount >= 3) after++;
        const batch = await Promise.all(urls.flatMap((url) => [chat(`${url}/v1`), chat(`${url}/v1`)]));
        statuses.push(...batch.map((r) => r.status));
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      // Also when starting failed: a server left running would hold its port past the test.
      for (const s of servers) s.child.kill("SIGTERM");
      await Promise.all(servers.map((s) => s.exited));
    }

    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(short.refreshCount).toBeGreaterThanOrEqual(3);
    expect(statuses.length).toBeGreaterThan(0);
    expect(short.reusedCount).toBe(0);
    for (const s of servers) expect(s.output()).not.toContain(tokens.refresh_token);
    await short.close();
  }, 60_000);
});
