/**
 * `serve` (the built CLI) with several stored accounts: it opens every
 * account of its home, fails over between them, remembers a cooldown across
 * a restart (usage.json), and two processes sharing the home make one
 * refresh per account and expiry.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { NodeAccountDirectory } from "../../src/node/account-directory.js";
import { runCliInProcess, tempHome } from "../helpers/cli.js";
import { accessToken } from "../helpers/jwt.js";
import { backend, oauth, serve, stop, useTokenChainHarness } from "../helpers/token-chain.js";

useTokenChainHarness();
beforeEach(() => backend.reset());

function chat(url: string, account?: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(account ? { "x-codex-account": account } : {}) },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
  });
}

/** Stores a long-lived login for `name` whose token the backend accepts, with its own account id. */
/** Returns the secrets stored, so that tests can check they never show. */
async function storeLogin(home: string, name: string): Promise<string[]> {
  const token = accessToken({ accountId: `acct_${name}` });
  backend.acceptToken(token);
  await new NodeAccountDirectory(home).open(name).set({
    accessToken: token,
    refreshToken: `rt_unused_${name}_0123456789`,
    expiresAt: Date.now() + 24 * 3600_000,
    accountId: `acct_${name}`,
  });
  return [token, `rt_unused_${name}_0123456789`];
}

const accountsSeen = () =>
  backend.requests.filter((r) => r.path.endsWith("/responses")).map((r) => r.headers["chatgpt-account-id"]);

describe("serve with several stored accounts", () => {
  it("lists them, fails over on a usage limit, and keeps the cooldown across a restart", async () => {
    const home = tempHome();
    const secrets = [...(await storeLogin(home, "default")), ...(await storeLogin(home, "work"))];
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    backend.limitAccount("acct_default", { resetsAt });

    const first = await serve(home, { POOL_STRATEGY: "fill-first" });
    try {
      expect(first.cli.output()).toMatch(/accounts: default, work \(strategy fill-first/);
      expect((await chat(first.url)).status).toBe(200);
      expect(accountsSeen()).toEqual(["acct_default", "acct_work"]);
      expect(first.cli.output()).toMatch(/account "default" reached its usage limit .*retrying on "work"/);
      expect(first.cli.output()).toMatch(/request .*account=work/);
      // The log names accounts, never their tokens; neither does the pool view.
      const pool = await (await fetch(`${first.url}/v1/pool`)).text();
      for (const secret of secrets) {
        expect(first.cli.output()).not.toContain(secret);
        expect(pool).not.toContain(secret);
      }
    } finally {
      await stop(first);
    }
    const usage = JSON.parse(readFileSync(path.join(home, "usage.json"), "utf8")) as {
      accounts: Record<string, { cooldownUntil?: number }>;
    };
    expect(usage.accounts.default?.cooldownUntil).toBe(resetsAt * 1000);

    // A new process knows the default account is cooling: it goes straight to "work".
    const second = await serve(home, { POOL_STRATEGY: "fill-first" });
    try {
      expect((await chat(second.url)).status).toBe(200);
      expect(accountsSeen()).toEqual(["acct_default", "acct_work", "acct_work"]);
      const pool = (await (await fetch(`${second.url}/v1/pool`)).json()) as {
        accounts: Array<{ name: string; state: string; cooldownUntil?: number }>;
      };
      expect(pool.accounts.find((a) => a.name === "default")).toMatchObject({
        state: "cooling_down",
        cooldownUntil: resetsAt * 1000,
      });
    } finally {
      await stop(second);
    }
  }, 30_000);

  it("takes in an account logged in while it runs, and fails over to it", async () => {
    const home = tempHome();
    await storeLogin(home, "default");
    const running = await serve(home, { POOL_STRATEGY: "fill-first" });
    try {
      // `login --name work` from another terminal, while serve runs.
      await storeLogin(home, "work");
      const names = async () =>
        ((await (await fetch(`${running.url}/v1/pool`)).json()) as { accounts: Array<{ name: string }> }).accounts.map(
          (a) => a.name,
        );
      for (let tries = 0; tries < 60 && !(await names()).includes("work"); tries++)
        await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await names()).toEqual(["default", "work"]);
      expect(running.cli.output()).toMatch(/account "work" joined the pool/);

      backend.limitAccount("acct_default", { resetsAt: Math.floor(Date.now() / 1000) + 3600 });
      expect((await chat(running.url)).status).toBe(200);
      expect(accountsSeen()).toEqual(["acct_default", "acct_work"]);
    } finally {
      await stop(running);
    }
  }, 40_000);

  it("says in accounts and status why an account whose plan has no Codex is out, until a new login", async () => {
    const home = tempHome();
    await storeLogin(home, "default");
    await storeLogin(home, "work");
    backend.setAccountAnswer("acct_default", {
      kind: "http",
      status: 403,
      body: JSON.stringify({ error: { type: "usage_not_included", message: "Codex is not included in your plan" } }),
    });
    const running = await serve(home, { POOL_STRATEGY: "fill-first" });
    const env = { CODEX_PROXY_HOME: home };
    const stateOf = async (name: string) => {
      const listed = await runCliInProcess(["accounts", "--json"], env);
      return (JSON.parse(listed.stdout) as Array<{ name: string; state: string; reason?: string }>).find(
        (a) => a.name === name,
      );
    };
    try {
      expect((await chat(running.url)).status).toBe(200);
      expect(accountsSeen()).toEqual(["acct_default", "acct_work"]);
      for (let tries = 0; tries < 40 && (await stateOf("default"))?.state !== "no_codex"; tries++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await stateOf("default")).toMatchObject({ state: "no_codex", reason: expect.stringMatching(/Codex/) });
      const status = await runCliInProcess(["status"], env);
      expect(status.stdout + status.stderr).toMatch(/plan does not include Codex/);
      expect(status.code).toBe(0); // work can serve
    } finally {
      await stop(running);
      backend.setAccountAnswer("acct_default", undefined);
    }
    // A new login of that account (another plan, perhaps) is not judged by the old answer.
    await storeLogin(home, "default");
    expect((await stateOf("default"))?.state).toBe("ready");
  }, 40_000);

  it("two processes sharing a two-account home make one refresh per account and expiry", async () => {
    const home = tempHome();
    const directory = new NodeAccountDirectory(home);
    const seeded: Record<string, string> = {};
    for (const name of ["default", "work"]) {
      const tokens = oauth.issueTokens();
      seeded[name] = tokens.refresh_token;
      // Inside the refresh window: the first request of either process refreshes.
      await directory.open(name).set({
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        expiresAt: Date.now() + 10 * 60_000,
        accountId: "acct_fake_123",
      });
    }
    const servers = await Promise.all([serve(home), serve(home)]);
    const refreshesBefore = oauth.refreshCount;
    const reusedBefore = oauth.reusedCount;
    try {
      oauth.setRefreshDelay(200);
      const responses = await Promise.all(
        servers.flatMap((s) =>
          ["default", "work"].flatMap((account) => Array.from({ length: 5 }, () => chat(s.url, account))),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    } finally {
      await stop(...servers);
    }
    expect(oauth.refreshCount - refreshesBefore).toBe(2);
    expect(oauth.reusedCount).toBe(reusedBefore);
    for (const name of ["default", "work"]) {
      const stored = await new NodeAccountDirectory(home).open(name).get();
      expect(stored?.refreshToken).not.toBe(seeded[name]);
      expect(existsSync(`${directory.pathOf(name)}.lock`)).toBe(false);
    }
  }, 30_000);
});
