/**
 * No write ever loses a token: real `serve` processes (the built CLI) against
 * the fake issuer (single-use rotating refresh tokens) and the fake backend,
 * racing logins, logouts, admin pushes, usage saves, crashed lock owners
 * and issuer outages against refreshes in flight. Several processes and
 * shutdowns are in token-chain-processes.test.ts.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { requestRefresh } from "../../src/auth/oauth-client.js";
import { runCli, tempHome } from "../helpers/cli.js";
import {
  ADMIN_KEY,
  backend,
  chat,
  credentialFile,
  jwt,
  lockFile,
  oauth,
  readStored,
  refreshInFlight,
  seed,
  serve,
  stop,
  until,
  useTokenChainHarness,
} from "../helpers/token-chain.js";

useTokenChainHarness();

describe("every credential write takes the refresh lock", () => {
  it("a login made while serve is refreshing wins: the refresh does not write the old chain over it", async () => {
    const home = tempHome();
    await seed(home, 10 * 60_000);
    const server = await serve(home);
    try {
      // Long enough for `login` to start and write while the refresh is still at the issuer.
      const { request } = await refreshInFlight(server, 4000);
      const fresh = oauth.issueTokens();
      const login = await runCli(
        ["login", "--access-token", fresh.access_token, "--refresh-token", fresh.refresh_token],
        { CODEX_PROXY_HOME: home },
      );
      expect(login.code, login.stderr).toBe(0);
      expect((await request).status).toBe(200);
      expect(readStored(home)).toMatchObject({ accessToken: fresh.access_token, refreshToken: fresh.refresh_token });
    } finally {
      await stop(server);
    }
  });

  it("a logout made while serve is refreshing stays done, and revokes the rotated refresh token", async () => {
    const home = tempHome();
    const seeded = await seed(home, 10 * 60_000);
    const server = await serve(home);
    try {
      const { request } = await refreshInFlight(server, 1500);
      const logout = await runCli(["logout"], { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer });
      expect(logout.code, logout.stderr).toBe(0);
      await request;
      expect(readStored(home)).toBeUndefined();
      expect(oauth.revoked.at(-1)).toMatch(/^rt_fake_/);
      expect(oauth.revoked.at(-1)).not.toBe(seeded.refresh_token);
    } finally {
      await stop(server);
    }
  });

  it("POST /admin/credentials during a refresh is not reverted by it", async () => {
    const home = tempHome();
    await seed(home, 10 * 60_000);
    const server = await serve(home, { ADMIN_API_KEY: ADMIN_KEY });
    try {
      const { request } = await refreshInFlight(server, 1500);
      const pushed = oauth.issueTokens();
      const push = await fetch(`${server.url}/admin/credentials`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({
          accessToken: pushed.access_token,
          refreshToken: pushed.refresh_token,
          expiresAt: Date.now() + 3600_000,
        }),
      });
      expect(push.status).toBe(200);
      expect((await request).status).toBe(200);
      expect(readStored(home)).toMatchObject({ accessToken: pushed.access_token, refreshToken: pushed.refresh_token });
    } finally {
      await stop(server);
    }
  });

  it("a refresh never writes over credentials that changed since it read them, even from a writer that skipped the lock", async () => {
    const home = tempHome();
    await seed(home, 10 * 60_000);
    const server = await serve(home);
    try {
      const { request } = await refreshInFlight(server, 1500);
      const other = oauth.issueTokens();
      writeFileSync(
        credentialFile(home),
        JSON.stringify({
          credentials: {
            accessToken: other.access_token,
            refreshToken: other.refresh_token,
            expiresAt: Date.now() + 3600_000,
            accountId: "acct_fake_123",
          },
        }),
      );
      expect((await request).status).toBe(200);
      expect(readStored(home)).toMatchObject({ accessToken: other.access_token, refreshToken: other.refresh_token });
      expect(server.cli.output()).toContain("changed during the refresh");
    } finally {
      await stop(server);
    }
  });
});

describe("usage data", () => {
  it("is saved to usage.json (0600) and never rewrites the credential file", async () => {
    const home = tempHome();
    await seed(home, 5 * 3600_000);
    const before = { stat: statSync(credentialFile(home)), text: readFileSync(credentialFile(home), "utf8") };
    const server = await serve(home);
    const usageFile = path.join(home, "usage.json");
    try {
      expect((await chat(server.url)).status).toBe(200);
      await until(() => existsSync(usageFile), "usage.json", 5000);
    } finally {
      await stop(server);
    }
    expect(statSync(usageFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(usageFile, "utf8")).accounts.default.rateLimits.windows[0]).toMatchObject({
      usedPercent: 12.5,
      windowMinutes: 300,
    });
    const after = statSync(credentialFile(home));
    expect(after.ino).toBe(before.stat.ino);
    expect(after.mtimeMs).toBe(before.stat.mtimeMs);
    expect(readFileSync(credentialFile(home), "utf8")).toBe(before.text);
    const status = JSON.parse((await runCli(["status", "--json"], { CODEX_PROXY_HOME: home })).stdout);
    expect(status.rateLimits.windows[0].usedPercent).toBe(12.5);
  });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

describe("a lock left behind by a crashed process", () => {
  it("is taken over at once by restarted serves; a burst makes exactly one refresh and no reuse", async () => {
    const home = tempHome();
    const seeded = await seed(home, 10 * 60_000);
    writeFileSync(
      lockFile(home),
      JSON.stringify({
        pid: await deadPid(),
        host: os.hostname(),
        processStartedAt: Date.now() - 60_000,
        acquiredAt: Date.now() - 1000,
        id: "crashed-owner",
      }),
    );
    const servers = await Promise.all([serve(home), serve(home)]);
    const refreshesBefore = oauth.refreshCount;
    const reusedBefore = oauth.reusedCount;
    try {
      oauth.setRefreshDelay(200);
      const responses = await Promise.all(servers.flatMap((s) => Array.from({ length: 10 }, () => chat(s.url))));
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    } finally {
      await stop(...servers);
    }
    expect(oauth.refreshCount - refreshesBefore).toBe(1);
    expect(oauth.reusedCount).toBe(reusedBefore);
    expect(readStored(home)!.refreshToken).not.toBe(seeded.refresh_token);
    expect(existsSync(lockFile(home))).toBe(false);
  }, 20_000);
});

/** An issuer that answers every request with `status` (or is not there at all when `status` is undefined). */
async function brokenIssuer(status?: number): Promise<{ url: string; requests: () => number; close: () => void }> {
  let count = 0;
  const server = http.createServer((_req, res) => {
    count++;
    res.writeHead(status ?? 500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "server_error", message: "try later" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (status === undefined) await new Promise((resolve) => server.close(resolve));
  return { url, requests: () => count, close: () => server.close() };
}

describe("an issuer outage in the last hour before expiry", () => {
  it("keeps using the valid access token, and says it will retry (log and status), not to log in again", async () => {
    const home = tempHome();
    const seeded = await seed(home, 30 * 60_000);
    const down = await brokenIssuer();
    const server = await serve(home, { CODEX_AUTH_ISSUER: down.url });
    try {
      for (let i = 0; i < 3; i++) {
        const response = await chat(server.url);
        expect(response.status, await response.clone().text()).toBe(200);
      }
      expect(backend.requests.at(-1)?.headers.authorization).toBe(`Bearer ${seeded.access_token}`);
      expect(server.cli.output()).toMatch(/will retry/);
    } finally {
      await stop(server);
    }
    const status = JSON.parse((await runCli(["status", "--json"], { CODEX_PROXY_HOME: home })).stdout);
    expect(status.lastRefreshError).toMatch(/could not reach the OAuth issuer.*will retry/);
    expect(status.lastRefreshError).not.toMatch(/login/);
    expect(readStored(home)!.refreshToken).toBe(seeded.refresh_token);
  });

  it("an issuer answering 503 is asked once, then not again until the retry delay has passed", async () => {
    const home = tempHome();
    await seed(home, 30 * 60_000);
    const failing = await brokenIssuer(503);
    const server = await serve(home, { CODEX_AUTH_ISSUER: failing.url });
    try {
      for (let i = 0; i < 4; i++) expect((await chat(server.url)).status).toBe(200);
      expect(failing.requests()).toBe(1);
    } finally {
      await stop(server);
      failing.close();
    }
    expect(readStored(home)!.lastRefreshError).toMatch(/HTTP 503.*will retry/);
  });
});

describe("tokens from the environment", () => {
  it("REFRESH_TOKEN is never spent (the rotated one could not be kept); serve says so and uses ACCESS_TOKEN", async () => {
    const tokens = oauth.issueTokens();
    const before = oauth.refreshCount;
    const env = { ACCESS_TOKEN: tokens.access_token, REFRESH_TOKEN: tokens.refresh_token };
    const server = await serve(tempHome(), { ...env, EXPIRES_AT: String(Date.now() + 10 * 60_000) });
    try {
      expect((await chat(server.url)).status).toBe(200);
      expect(server.cli.output()).toContain("REFRESH_TOKEN from the environment is not used");
    } finally {
      await stop(server);
    }
    const expired = await serve(tempHome(), { ...env, EXPIRES_AT: String(Date.now() - 60_000) });
    try {
      const response = await chat(expired.url);
      expect(response.status).toBe(401);
      expect((await response.json()).error.message).toMatch(/ACCESS_TOKEN.*codex-proxy login/);
    } finally {
      await stop(expired);
    }
    expect(oauth.refreshCount).toBe(before);
    // The chain is still alive for whoever stores it properly.
    await expect(requestRefresh(fetch, oauth.issuer, tokens.refresh_token)).resolves.toBeTruthy();
  });
});

describe("POST /admin/credentials validation on serve", () => {
  it("refuses a non-JWT access token, an empty refresh token or a wrong-unit expiry with a 400 naming the field, leaving the stored chain alone", async () => {
    const home = tempHome();
    await seed(home, 5 * 3600_000);
    const before = readFileSync(credentialFile(home), "utf8");
    const server = await serve(home, { ADMIN_API_KEY: ADMIN_KEY });
    const good = jwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    const push = async (body: Record<string, unknown>) => {
      const res = await fetch(`${server.url}/admin/credentials`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, error: (await res.json()).error as { param: string; message: string } };
    };
    try {
      const expiresAt = Date.now() + 3600_000;
      const notJwt = await push({ accessToken: "sk-not-a-jwt", refreshToken: "rt_x", expiresAt });
      expect(notJwt.status).toBe(400);
      expect(notJwt.error.param).toBe("accessToken");
      expect(notJwt.error.message).toMatch(/JWT/);
      expect(notJwt.error.message).not.toContain("sk-not-a-jwt");
      const noExp = await push({ accessToken: jwt({ sub: "x" }), refreshToken: "rt_x", expiresAt });
      expect(noExp.error.param).toBe("accessToken");
      expect((await push({ accessToken: good, refreshToken: "  ", expiresAt })).error.param).toBe("refreshToken");
      expect((await push({ accessToken: good, refreshToken: 7, expiresAt })).error.param).toBe("refreshToken");
      const micro = await push({ accessToken: good, refreshToken: "rt_x", expiresAt: expiresAt * 1000 });
      expect(micro.status).toBe(400);
      expect(micro.error.param).toBe("expiresAt");
      expect(readFileSync(credentialFile(home), "utf8")).toBe(before);
      expect((await chat(server.url)).status).toBe(200);
    } finally {
      await stop(server);
    }
  });
});
