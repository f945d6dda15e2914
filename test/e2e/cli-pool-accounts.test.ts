/**
 * Several accounts on disk, as a user manages them: `login --name` with every
 * method, `accounts` (list, --json, remove, rename, disable, enable),
 * `logout --name`, `status` over every account, and `push-credentials --name`.
 * In-process on argv with a temporary CODEX_PROXY_HOME and the fake OAuth
 * issuer; real files, read back byte for byte.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeOAuthServer, startFakeOAuthServer } from "../fake/oauth-server.js";
import { runCliInProcess, startCli, startCliInProcess, tempHome } from "../helpers/cli.js";
import { AUTH_CLAIM, unsignedJwt } from "../helpers/jwt.js";
import { freePort } from "../helpers/net.js";

let oauth: FakeOAuthServer;
beforeAll(async () => {
  oauth = await startFakeOAuthServer({ email: "ada@example.com", plan: "pro", accountId: "acct_pool_fake" });
});
afterAll(async () => oauth?.close());

const HOUR = 3600_000;

/** An access token of its own ChatGPT account (distinct accounts are what a pool is for). */
function tokenFor(accountId: string, email: string, expiresInSeconds = 5 * 3600): string {
  return unsignedJwt({
    exp: Math.floor(Date.now() / 1000) + expiresInSeconds,
    [AUTH_CLAIM]: { chatgpt_account_id: accountId, chatgpt_user_id: `user-${accountId}`, chatgpt_plan_type: "plus" },
    "https://api.openai.com/profile": { email },
  });
}

function accountFile(home: string, name: string): string {
  return name === "default" ? path.join(home, "credentials.json") : path.join(home, "accounts", `${name}.json`);
}

function storedRaw(home: string, name: string): string {
  return readFileSync(accountFile(home, name), "utf8");
}

function stored(home: string, name: string) {
  return JSON.parse(storedRaw(home, name)).credentials;
}

function usageFile(home: string) {
  return JSON.parse(readFileSync(path.join(home, "usage.json"), "utf8"));
}

async function loginAs(home: string, name: string | undefined, accountId: string, refresh = `rt_${accountId}`) {
  const access = tokenFor(accountId, `${accountId}@example.com`);
  const result = await runCliInProcess(
    ["login", ...(name ? ["--name", name] : []), "--access-token", access, "--refresh-token", refresh],
    { CODEX_PROXY_HOME: home },
  );
  expect(result.code, result.stderr).toBe(0);
  return { access, refresh };
}

function expectNoSecrets(text: string, ...secrets: string[]) {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** The windows the backend last reported, as serve stores them in usage.json. */
function windows(fiveHourPercent: number, weeklyPercent: number) {
  const now = Date.now();
  return {
    windows: [
      { usedPercent: fiveHourPercent, windowMinutes: 300, resetsAt: Math.floor(now / 1000) + 2 * 3600 + 60 },
      { usedPercent: weeklyPercent, windowMinutes: 10_080, resetsAt: Math.floor(now / 1000) + 3 * 86_400 },
    ],
    observedAt: now - 60_000,
  };
}

/** A Codex CLI home whose auth.json holds a fresh login from the fake issuer (account `acct_pool_fake`). */
function codexCliLogin() {
  const tokens = oauth.issueTokens();
  const codexHome = tempHome("codex-home-");
  writeFileSync(
    path.join(codexHome, "auth.json"),
    JSON.stringify({ tokens: { ...tokens, account_id: "acct_pool_fake" }, last_refresh: new Date().toISOString() }),
    { mode: 0o600 },
  );
  return { tokens, codexHome };
}

describe("login --name", () => {
  it("stores flag tokens exactly, 0600, in accounts/NAME.json, leaving the default account alone", async () => {
    const home = tempHome();
    const mine = await loginAs(home, undefined, "acct_personal");
    const work = await loginAs(home, "work", "acct_work");
    expect(statSync(accountFile(home, "work")).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(accountFile(home, "work"))).mode & 0o777).toBe(0o700);
    expect(stored(home, "work")).toMatchObject({
      accessToken: work.access,
      refreshToken: work.refresh,
      accountId: "acct_work",
    });
    expect(stored(home, "default")).toMatchObject({ accessToken: mine.access, refreshToken: mine.refresh });
    // `--name default` is the default account, the same file as no --name.
    const again = await loginAs(home, "default", "acct_personal", "rt_personal_2");
    expect(stored(home, "default").refreshToken).toBe(again.refresh);
    expect(existsSync(path.join(home, "accounts", "default.json"))).toBe(false);
  });

  it("refuses an invalid name before any prompt or sign-in", async () => {
    const home = tempHome();
    for (const name of ["../escape", "two words", "-dash", ""]) {
      const result = await runCliInProcess(["login", "--device", "--name", name], {
        CODEX_PROXY_HOME: home,
        CODEX_AUTH_ISSUER: oauth.issuer,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Invalid account name/);
      expect(result.stdout).not.toMatch(/Open this page/);
    }
    expect(existsSync(path.join(home, "accounts"))).toBe(false);
    expect(existsSync(accountFile(home, "default"))).toBe(false);
  });

  it("refuses a ChatGPT account already stored under another name, with the way to renew or rename it", async () => {
    const home = tempHome();
    await loginAs(home, "work", "acct_same");
    const access = tokenFor("acct_same", "same@example.com");
    const result = await runCliInProcess(
      ["login", "--name", "again", "--access-token", access, "--refresh-token", "rt_other"],
      { CODEX_PROXY_HOME: home },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/already stored as "work"/);
    expect(result.stderr).toMatch(/codex-proxy login --name work/);
    expect(result.stderr).toMatch(/accounts rename work again/);
    expect(existsSync(accountFile(home, "again"))).toBe(false);
    // Logging in the same account again under its own name renews it.
    await loginAs(home, "work", "acct_same", "rt_renewed");
    expect(stored(home, "work").refreshToken).toBe("rt_renewed");
  });

  it("--import stores the Codex CLI's tokens in the named account (exact with --no-refresh, refreshed once without)", async () => {
    const { tokens, codexHome } = codexCliLogin();
    const home = tempHome();
    const exact = await runCliInProcess(["login", "--import", "--no-refresh", "--name", "codex"], {
      CODEX_PROXY_HOME: home,
      CODEX_HOME: codexHome,
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(exact.code, exact.stderr).toBe(0);
    expect(statSync(accountFile(home, "codex")).mode & 0o777).toBe(0o600);
    expect(stored(home, "codex")).toMatchObject({
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      accountId: "acct_pool_fake",
    });
    expect(existsSync(accountFile(home, "default"))).toBe(false);

    const forked = tempHome();
    const before = oauth.refreshCount;
    const refreshed = await runCliInProcess(["login", "--import", "--name", "codex"], {
      CODEX_PROXY_HOME: forked,
      CODEX_HOME: codexHome,
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(oauth.refreshCount).toBe(before + 1);
    expect(stored(forked, "codex").accessToken).toBe(oauth.accessTokens.at(-1));
    expect(stored(forked, "codex").refreshToken).not.toBe(tokens.refresh_token);
  });

  it("--import refuses a duplicate account before refreshing, so no rotated chain is thrown away", async () => {
    const { codexHome } = codexCliLogin();
    const home = tempHome();
    await runCliInProcess(["login", "--import", "--no-refresh"], { CODEX_PROXY_HOME: home, CODEX_HOME: codexHome });
    const before = oauth.refreshCount;
    const result = await runCliInProcess(["login", "--import", "--name", "twice"], {
      CODEX_PROXY_HOME: home,
      CODEX_HOME: codexHome,
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/already stored as "default"/);
    expect(oauth.refreshCount).toBe(before);
  });

  it("--device stores the issued tokens in the named account", async () => {
    const home = tempHome();
    const result = await runCliInProcess(["login", "--device", "--name", "dev"], {
      CODEX_PROXY_HOME: home,
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Stored as account "dev"/);
    expect(statSync(accountFile(home, "dev")).mode & 0o777).toBe(0o600);
    expect(stored(home, "dev")).toMatchObject({ accessToken: oauth.accessTokens.at(-1), email: "ada@example.com" });
    expect(existsSync(accountFile(home, "default"))).toBe(false);
  });

  it("the browser login stores the issued tokens in the named account", async () => {
    const home = tempHome();
    const port = await freePort();
    const cli = startCliInProcess(["login", "--no-browser", "--name", "browser"], {
      CODEX_PROXY_HOME: home,
      CODEX_AUTH_ISSUER: oauth.issuer,
      CODEX_PROXY_CALLBACK_PORTS: String(port),
    });
    const [authorizeUrl] = await cli.waitFor(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+$/m);
    const authorize = await fetch(authorizeUrl, { redirect: "manual" });
    await (await fetch(authorize.headers.get("location")!.replace("localhost", "127.0.0.1"))).text();
    expect(await cli.exited, cli.output()).toBe(0);
    expect(statSync(accountFile(home, "browser")).mode & 0o777).toBe(0o600);
    expect(stored(home, "browser")).toMatchObject({
      accessToken: oauth.accessTokens.at(-1),
      accountId: "acct_pool_fake",
    });
    expect(existsSync(accountFile(home, "default"))).toBe(false);
  });

  it("--manual in a terminal stores the typed tokens exactly in the named account", async () => {
    const home = tempHome();
    const access = tokenFor("acct_manual_pool", "manual@example.com");
    const refresh = "rt_manual_pool_value";
    const cli = startCli(["login", "--manual", "--name", "typed"], { CODEX_PROXY_HOME: home }, { terminal: true });
    await cli.waitFor(/Access token/);
    cli.child.stdin.write(`${access}\r`);
    await cli.waitFor(/Refresh token/);
    cli.child.stdin.write(`${refresh}\r`);
    expect(await cli.exited, JSON.stringify(cli.output().slice(-800))).toBe(0);
    expect(statSync(accountFile(home, "typed")).mode & 0o777).toBe(0o600);
    expect(stored(home, "typed")).toMatchObject({ accessToken: access, refreshToken: refresh });
    expect(existsSync(accountFile(home, "default"))).toBe(false);
  });
});

/** default and work ready, cool at its limit for an hour, off disabled, broken unreadable. */
async function poolHome() {
  const home = tempHome();
  const tokens = {
    default: await loginAs(home, undefined, "acct_a"),
    work: await loginAs(home, "work", "acct_b"),
    cool: await loginAs(home, "cool", "acct_c"),
    off: await loginAs(home, "off", "acct_d"),
  };
  expect((await runCliInProcess(["accounts", "disable", "off"], { CODEX_PROXY_HOME: home })).code).toBe(0);
  const coolUntil = Date.now() + HOUR;
  writeFileSync(
    path.join(home, "usage.json"),
    JSON.stringify({
      accounts: {
        default: { rateLimits: windows(45, 10) },
        cool: { rateLimits: windows(100, 60), cooldownUntil: coolUntil, cooldownReason: "usage limit reached" },
      },
    }),
    { mode: 0o600 },
  );
  writeFileSync(accountFile(home, "broken"), '{"credentials": {"accessToken": "half-wr', { mode: 0o600 });
  const secrets = Object.values(tokens).flatMap((t) => [t.access, t.refresh]);
  return { home, tokens, coolUntil, secrets };
}

describe("accounts", () => {
  it("--json lists every account in the pool's view: ready, cooling down, disabled and unreadable, no token", async () => {
    const { home, coolUntil, secrets } = await poolHome();
    const result = await runCliInProcess(["accounts", "--json"], { CODEX_PROXY_HOME: home });
    expect(result.code, result.stderr).toBe(0);
    expectNoSecrets(result.stdout, ...secrets);
    const list = JSON.parse(result.stdout);
    expect(list.map((a: { name: string; state: string }) => [a.name, a.state])).toEqual([
      ["default", "ready"],
      ["broken", "unreadable"],
      ["cool", "cooling_down"],
      ["off", "disabled"],
      ["work", "ready"],
    ]);
    const byName = Object.fromEntries(list.map((a: { name: string }) => [a.name, a]));
    expect(byName.default).toMatchObject({ email: "acct_a@example.com", plan: "plus" });
    expect(byName.default.rateLimits.windows.map((w: { usedPercent: number }) => w.usedPercent)).toEqual([45, 10]);
    expect(byName.default.expiresAt).toBeGreaterThan(Date.now() + 4 * HOUR);
    expect(byName.cool).toMatchObject({ cooldownUntil: coolUntil, reason: "usage limit reached" });
    expect(byName.broken.path).toBe(accountFile(home, "broken"));
    expect(byName.broken.reason).toContain(accountFile(home, "broken"));
    expect(byName.broken.reason).toMatch(/accounts remove broken/);
    // `accounts list --json` is the same command.
    const list2 = await runCliInProcess(["accounts", "list", "--json"], { CODEX_PROXY_HOME: home });
    expect(JSON.parse(list2.stdout)).toEqual(list);
  });

  it("prints a table with usage, cooldowns, and why each account that is not ready is out", async () => {
    const { home, secrets } = await poolHome();
    // An unreadable account does not stop another login.
    await loginAs(home, "extra", "acct_extra");
    const result = await runCliInProcess(["accounts"], { CODEX_PROXY_HOME: home });
    expect(result.code, result.stderr).toBe(0);
    expectNoSecrets(result.stdout, ...secrets);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^NAME\s+EMAIL\s+PLAN\s+ACCESS TOKEN\s+USAGE\s+STATE\s+HANDED OFF TO$/);
    expect(lines.find((l) => l.startsWith("default "))).toMatch(
      /acct_a@example\.com\s+plus\s+expires in \d hours.*5h 45%, week 10%.*ready/,
    );
    expect(lines.find((l) => l.startsWith("cool "))).toMatch(/5h 100%, week 60%.*cooling down until/);
    expect(lines.find((l) => l.startsWith("off "))).toMatch(/disabled/);
    expect(lines.find((l) => l.startsWith("broken "))).toMatch(/unreadable/);
    expect(lines.find((l) => l.startsWith("extra "))).toMatch(/acct_extra@example\.com.*ready/);
    expect(result.stdout).toMatch(/^cool: usage limit reached \(until .*, in (\d+ minutes|1 hour)\)$/m);
    expect(result.stdout).toMatch(/^broken: cannot read .*broken\.json \(it is not valid JSON\)/m);
  });

  it("rename keeps the tokens byte for byte, moves the usage entry, and refuses an existing name", async () => {
    const { home } = await poolHome();
    const before = storedRaw(home, "cool");
    const refused = await runCliInProcess(["accounts", "rename", "cool", "work"], { CODEX_PROXY_HOME: home });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/"work" already exists/);
    expect(storedRaw(home, "cool")).toBe(before);
    expect(stored(home, "work").accountId).toBe("acct_b");

    const renamed = await runCliInProcess(["accounts", "rename", "cool", "spare"], { CODEX_PROXY_HOME: home });
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(existsSync(accountFile(home, "cool"))).toBe(false);
    expect(storedRaw(home, "spare")).toBe(before);
    expect(statSync(accountFile(home, "spare")).mode & 0o777).toBe(0o600);
    const usage = usageFile(home).accounts;
    expect(usage.cool).toBeUndefined();
    expect(usage.spare).toMatchObject({ cooldownReason: "usage limit reached" });

    const unknown = await runCliInProcess(["accounts", "rename", "nobody", "x"], { CODEX_PROXY_HOME: home });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No account named "nobody" \(accounts: default, broken, off, spare, work\)/);
  });

  it("renaming default makes `login` without --name start a new default account", async () => {
    const home = tempHome();
    const first = await loginAs(home, undefined, "acct_first");
    const before = storedRaw(home, "default");
    const renamed = await runCliInProcess(["accounts", "rename", "default", "personal"], { CODEX_PROXY_HOME: home });
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(existsSync(accountFile(home, "default"))).toBe(false);
    expect(storedRaw(home, "personal")).toBe(before);
    await loginAs(home, undefined, "acct_second");
    expect(stored(home, "default").accountId).toBe("acct_second");
    expect(stored(home, "personal").refreshToken).toBe(first.refresh);
  });

  it("an unreadable account file is left untouched by rename, disable and login, each naming the way out", async () => {
    const { home } = await poolHome();
    const before = storedRaw(home, "broken");
    for (const args of [
      ["accounts", "rename", "broken", "fixed"],
      ["accounts", "disable", "broken"],
      ["login", "--name", "broken", "--access-token", tokenFor("acct_z", "z@example.com"), "--refresh-token", "rt_z"],
    ]) {
      const result = await runCliInProcess(args, { CODEX_PROXY_HOME: home });
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr).toMatch(/broken\.json\) cannot be read; it was left untouched.*accounts remove broken/);
      expect(storedRaw(home, "broken")).toBe(before);
    }
    expect(existsSync(accountFile(home, "fixed"))).toBe(false);
  });

  it("disable and enable flip only `disabled`, keeping every token", async () => {
    const home = tempHome();
    await loginAs(home, "work", "acct_toggle");
    const before = stored(home, "work");
    expect((await runCliInProcess(["accounts", "disable", "work"], { CODEX_PROXY_HOME: home })).code).toBe(0);
    expect(stored(home, "work")).toEqual({ ...before, disabled: true });
    expect(statSync(accountFile(home, "work")).mode & 0o777).toBe(0o600);
    expect((await runCliInProcess(["accounts", "enable", "work"], { CODEX_PROXY_HOME: home })).code).toBe(0);
    expect(stored(home, "work")).toEqual(before);
    const missing = await runCliInProcess(["accounts", "disable", "ghost"], { CODEX_PROXY_HOME: home });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No account named "ghost"/);
  });

  it("remove (and logout --name) deletes one account, revokes it, forgets its usage, and leaves the rest", async () => {
    const { home, tokens } = await poolHome();
    const env = { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer };
    const removed = await runCliInProcess(["accounts", "remove", "cool", "--yes"], env);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/Removed account "cool".*revoked/);
    expect(existsSync(accountFile(home, "cool"))).toBe(false);
    expect(oauth.revoked).toContain(tokens.cool.refresh);
    expect(usageFile(home).accounts.cool).toBeUndefined();
    expect(usageFile(home).accounts.default).toBeDefined();

    const logout = await runCliInProcess(["logout", "--name", "work"], env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(existsSync(accountFile(home, "work"))).toBe(false);
    expect(oauth.revoked).toContain(tokens.work.refresh);
    expect(stored(home, "default").refreshToken).toBe(tokens.default.refresh);

    // An unreadable file is removed as it is; an unknown name is an error.
    expect((await runCliInProcess(["accounts", "remove", "broken", "--yes"], env)).code).toBe(0);
    expect(existsSync(accountFile(home, "broken"))).toBe(false);
    const unknown = await runCliInProcess(["accounts", "remove", "cool"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No account named "cool"/);
  });
});

describe("status with several accounts", () => {
  it("shows every account with its usage as bars and exits 0 while one can serve, 1 when none can", async () => {
    const { home, secrets } = await poolHome();
    const env = { CODEX_PROXY_HOME: home };
    const human = await runCliInProcess(["status"], env);
    expect(human.code, human.stderr).toBe(0);
    expectNoSecrets(human.stdout, ...secrets);
    expect(human.stdout).toMatch(/^ {2}5-hour {2}\[#########-----------\] 45% · resets in 2 hours$/m);
    expect(human.stdout).toMatch(/^ {2}weekly {2}\[##------------------\] 10% · resets in (2 days 23 hours|3 days)$/m);
    expect(human.stdout).toMatch(/cool\.json \(account "cool"\)[\s\S]*COOLING DOWN until .*: usage limit reached/);
    expect(human.stdout).toMatch(/off\.json \(account "off"\)[\s\S]*OUT OF ROTATION \(disabled\)/);
    expect(human.stdout).toMatch(/Account "broken": cannot read/);
    expect(human.stdout).toMatch(/2 of 5 accounts can serve now \(default, work\)\./);

    const json = await runCliInProcess(["status", "--json"], env);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    // The top level is the default account, as before pools.
    expect(body).toMatchObject({ type: "oauth", hasCredentials: true, userID: "user-acct_a", isExpired: false });
    expect(body.accounts.map((a: { name: string }) => a.name)).toEqual(["default", "broken", "cool", "off", "work"]);
    expectNoSecrets(json.stdout, ...secrets);

    // Only work left: still 0. Then nothing left: 1.
    await runCliInProcess(["accounts", "disable", "default"], env);
    expect((await runCliInProcess(["status"], env)).code).toBe(0);
    await runCliInProcess(["accounts", "disable", "work"], env);
    const none = await runCliInProcess(["status"], env);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/None of the 5 accounts can serve now/);
    expect((await runCliInProcess(["status", "--json"], env)).code).toBe(1);
  });

  it("exits 0 on a named account alone, with no default login", async () => {
    const home = tempHome();
    await loginAs(home, "work", "acct_only");
    const json = await runCliInProcess(["status", "--json"], { CODEX_PROXY_HOME: home });
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body).toMatchObject({ type: "oauth", hasCredentials: false });
    expect(body.accounts).toEqual([expect.objectContaining({ name: "work", state: "ready" })]);
  });
});

describe("usage.json written before pools", () => {
  it("is read as the default account's, and rewritten in the per-account shape at the next save", async () => {
    const home = tempHome();
    await loginAs(home, undefined, "acct_legacy");
    const legacy = {
      primary: { usedPercent: 30, windowMinutes: 300, resetsAt: Math.floor(Date.now() / 1000) + 3600 },
      secondary: { usedPercent: 5, windowMinutes: 10_080 },
      observedAt: Date.now(),
    };
    writeFileSync(path.join(home, "usage.json"), JSON.stringify({ rateLimits: legacy }), { mode: 0o600 });
    const list = JSON.parse((await runCliInProcess(["accounts", "--json"], { CODEX_PROXY_HOME: home })).stdout);
    expect(list[0].rateLimits.windows.map((w: { usedPercent: number }) => w.usedPercent)).toEqual([30, 5]);
    const status = await runCliInProcess(["status"], { CODEX_PROXY_HOME: home });
    expect(status.stdout).toMatch(/5-hour {2}\[######--------------\] 30%/);
    // Reading never rewrites it.
    expect(usageFile(home)).toEqual({ rateLimits: legacy });

    await runCliInProcess(["accounts", "rename", "default", "first"], { CODEX_PROXY_HOME: home });
    expect(usageFile(home)).toEqual({ accounts: { first: { rateLimits: legacy } } });
  });
});

describe("push-credentials --name", () => {
  /** Stands in for a Worker's admin API: records each push, answers a status with or without `accounts`. */
  async function recordingWorker(listsAccounts: boolean) {
    const pushes: Array<{ url: string; body: Record<string, unknown> }> = [];
    const server = http.createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        if (req.method === "POST") {
          pushes.push({ url: req.url!, body: JSON.parse(raw) });
          res.end(JSON.stringify({ status: "success", message: "Credentials updated successfully" }));
          return;
        }
        const pushed = pushes.at(-1);
        res.end(
          JSON.stringify({
            type: "oauth",
            hasCredentials: false,
            ...(listsAccounts
              ? {
                  accounts: pushed
                    ? [{ name: "work", state: "ready", expiresAt: pushed.body.expiresAt, plan: "plus" }]
                    : [],
                }
              : {}),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, pushes, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it("sends that account's tokens with ?account=NAME and marks only that account handed off", async () => {
    const home = tempHome();
    const mine = await loginAs(home, undefined, "acct_home");
    const work = await loginAs(home, "work", "acct_job");
    const worker = await recordingWorker(true);
    try {
      const result = await runCliInProcess(
        ["push-credentials", "--worker-url", worker.url, "--admin-key", "k", "--name", "work"],
        { CODEX_PROXY_HOME: home },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/Pushed account "work"/);
      expect(worker.pushes).toHaveLength(1);
      expect(worker.pushes[0]!.url).toBe("/admin/credentials?account=work");
      expect(worker.pushes[0]!.body).toMatchObject({ accessToken: work.access, refreshToken: work.refresh });
      expect(stored(home, "work").handedOffTo).toBe(worker.url);
      expect(stored(home, "default").handedOffTo).toBeUndefined();
      expect(stored(home, "default").refreshToken).toBe(mine.refresh);
    } finally {
      await worker.close();
    }
  });

  it("refuses a Worker that predates pools (it would take the account as its only one), marking nothing", async () => {
    const home = tempHome();
    await loginAs(home, "work", "acct_job2");
    const worker = await recordingWorker(false);
    try {
      const result = await runCliInProcess(
        ["push-credentials", "--worker-url", worker.url, "--admin-key", "k", "--name", "work"],
        { CODEX_PROXY_HOME: home },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/predates account pools/);
      expect(worker.pushes).toHaveLength(0);
      expect(stored(home, "work").handedOffTo).toBeUndefined();
    } finally {
      await worker.close();
    }
  });
});

describe("accounts remove in a terminal", () => {
  it("asks first, removes nothing on no, and removes on yes", async () => {
    const home = tempHome();
    const { refresh } = await loginAs(home, "work", "acct_tty");
    const env = { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer };
    const declined = startCli(["accounts", "remove", "work"], env, { terminal: true });
    await declined.waitFor(/Remove account "work"/);
    declined.child.stdin.write("n\r");
    expect(await declined.exited, JSON.stringify(declined.output().slice(-400))).toBe(1);
    expect(stored(home, "work").refreshToken).toBe(refresh);

    const accepted = startCli(["accounts", "remove", "work"], env, { terminal: true });
    await accepted.waitFor(/Remove account "work"/);
    accepted.child.stdin.write("y\r");
    expect(await accepted.exited, JSON.stringify(accepted.output().slice(-400))).toBe(0);
    expect(existsSync(accountFile(home, "work"))).toBe(false);
  });
});
