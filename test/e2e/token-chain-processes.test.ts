/**
 * No write ever loses a token, with real `serve` processes racing each
 * other: two and four processes sharing one home, a shutdown in the middle
 * of a refresh, and a credential file that becomes unreadable while serve
 * runs. (token-chain-safety.test.ts has the races against logins, logouts,
 * pushes, usage saves, crashed lock owners and issuer outages; the two files
 * run in parallel.)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { describe, expect, it } from "vitest";
import { requestRefresh } from "../../src/auth/oauth-client.js";
import { startFakeOAuthServer } from "../fake/oauth-server.js";
import { tempHome } from "../helpers/cli.js";
import {
  backend,
  chat,
  credentialFile,
  lockFile,
  oauth,
  readStored,
  seed,
  serve,
  stop,
  until,
  useTokenChainHarness,
  type Serve,
} from "../helpers/token-chain.js";

useTokenChainHarness();

describe("shutdown", () => {
  it("SIGTERM during a slow refresh lets it finish: the rotated tokens are saved and no lock is left", async () => {
    const home = tempHome();
    const seeded = await seed(home, 10 * 60_000);
    const server = await serve(home);
    const issuedBefore = oauth.accessTokens.length;
    oauth.setRefreshDelay(2000);
    const refreshesBefore = oauth.refreshCount;
    // The client that triggered the refresh hangs up, so no open request holds the shutdown back: only the refresh does.
    const client = http.request(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      agent: false,
    });
    client.on("error", () => undefined);
    client.end(JSON.stringify({ messages: [{ role: "user", content: "hi" }] }));
    await until(() => oauth.refreshCount > refreshesBefore, "the refresh to reach the issuer");
    client.destroy();
    await new Promise((resolve) => client.on("close", resolve));
    server.cli.child.kill("SIGTERM");
    expect(await server.cli.exited).toBe(0);
    await until(() => oauth.accessTokens.length > issuedBefore, "the issuer to answer");
    const stored = readStored(home)!;
    expect(stored.refreshToken).not.toBe(seeded.refresh_token);
    expect(stored.accessToken).toBe(oauth.accessTokens.at(-1));
    expect(existsSync(lockFile(home))).toBe(false);
  });
});

describe("a credential file that becomes unreadable while serve runs", () => {
  it("answers with the reason, the path and what to do (503, OpenAI shape; /health too), and leaves the file alone", async () => {
    const home = tempHome();
    await seed(home, 5 * 3600_000);
    const server = await serve(home);
    const file = credentialFile(home);
    try {
      expect((await chat(server.url)).status).toBe(200);

      writeFileSync(file, '{"credentials": {"accessToken": "secret-fragment');
      const corrupt = readFileSync(file, "utf8");
      // serve reuses a read for up to a second.
      let response = await chat(server.url);
      for (let i = 0; i < 100 && response.status === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        response = await chat(server.url);
      }
      expect(response.status).toBe(503);
      const body = await response.json();
      expect(body.error).toMatchObject({ type: "server_error", code: "credentials_unreadable" });
      expect(body.error.message).toContain(file);
      expect(body.error.message).toMatch(/not valid JSON/);
      expect(body.error.message).toMatch(/codex-proxy login/);
      expect(body.error.message).not.toContain("secret-fragment");
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ hasCredentials: false, error: expect.stringContaining(file) });
      expect(readFileSync(file, "utf8")).toBe(corrupt);

      rmSync(file);
      mkdirSync(file);
      const dir = await chat(server.url);
      expect(dir.status).toBe(503);
      expect((await dir.json()).error.message).toMatch(/directory/);
      expect(statSync(file).isDirectory()).toBe(true);
    } finally {
      await stop(server);
    }
  });
});

describe("serve processes sharing one CODEX_PROXY_HOME", () => {
  for (const count of [2, 4]) {
    it(`${count} processes with short-lived tokens: one refresh per rotation, no refresh_token_reused, the chain survives`, async () => {
      const short = await startFakeOAuthServer({ accessTokenTtlSeconds: 3 });
      short.onAccessToken((token) => backend.acceptToken(token));
      const home = tempHome();
      await seed(home, 3000, short);
      const servers: Serve[] = [];
      const statuses: number[] = [];
      try {
        servers.push(
          ...(await Promise.all(
            Array.from({ length: count }, () => serve(home, { CODEX_AUTH_ISSUER: short.issuer, LOG_LEVEL: "warn" })),
          )),
        );
        // ~5 s of traffic: tokens live 3 s and refresh at half-life, so the chain rotates several times.
        const until = Date.now() + 5000;
        while (Date.now() < until) {
          const batch = await Promise.all(servers.flatMap((s) => [chat(s.url), chat(s.url)]));
          statuses.push(...batch.map((r) => r.status));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await stop(...servers);
      }
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(short.reusedCount).toBe(0);
      expect(short.refreshCount).toBeGreaterThanOrEqual(2);
      // Every refresh request spent a distinct, current refresh token and minted one access token.
      expect(short.refreshCount).toBe(short.accessTokens.length - 1);
      const stored = readStored(home)!;
      expect(stored.accessToken).toBe(short.accessTokens.at(-1));
      await expect(requestRefresh(fetch, short.issuer, stored.refreshToken as string)).resolves.toBeTruthy();
      expect(existsSync(lockFile(home))).toBe(false);
      await short.close();
    }, 25_000);
  }
});
