/**
 * login / status / logout as a user runs them: the built CLI, a temporary
 * CODEX_PROXY_HOME, the fake OAuth issuer, no TTY.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { runCli, startCli, tempHome } from "../helpers/cli.js";

let oauth: FakeOAuthServer;
beforeAll(async () => {
  oauth = await startFakeOAuthServer({ email: "ada@example.com", plan: "pro" });
});
afterAll(async () => oauth?.close());

function credentialFile(home: string) {
  return path.join(home, "credentials.json");
}

function stored(home: string) {
  return JSON.parse(readFileSync(credentialFile(home), "utf8")).credentials;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function expectNoSecrets(text: string, ...secrets: string[]) {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe("login with flags", () => {
  it("stores the tokens exactly as given, in a 0600 file, and status reads them back", async () => {
    const home = tempHome();
    const tokens = oauth.issueTokens();
    const expiresAt = Date.now() + 3 * 3600_000;
    const login = await runCli(
      [
        "login",
        "--access-token",
        tokens.access_token,
        "--refresh-token",
        tokens.refresh_token,
        "--expires-at",
        String(expiresAt),
      ],
      { CODEX_PROXY_HOME: home },
    );
    expect(login.code).toBe(0);
    expect(login.stdout).toContain("plan pro");
    expectNoSecrets(login.stdout + login.stderr, tokens.access_token, tokens.refresh_token);
    expect(statSync(credentialFile(home)).mode & 0o777).toBe(0o600);
    expect(stored(home)).toMatchObject({
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt,
      accountId: "acct_fake_123",
      plan: "pro",
    });

    const status = await runCli(["status", "--json"], { CODEX_PROXY_HOME: home });
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout);
    expect(json).toMatchObject({
      type: "oauth",
      hasCredentials: true,
      userID: "user-fake-1",
      expiresAt,
      isExpired: false,
      needsRefreshSoon: false,
    });
    expect(json.minutesUntilExpiry).toBeGreaterThanOrEqual(179);
    expectNoSecrets(status.stdout, tokens.access_token, tokens.refresh_token);

    const human = await runCli(["status"], { CODEX_PROXY_HOME: home });
    expect(human.stdout).toMatch(/plan: pro/);
    expect(human.stdout).toMatch(/expires in 2 hours 59 minutes|expires in 3 hours/);
    expectNoSecrets(human.stdout, tokens.access_token, tokens.refresh_token);
  });

  it("computes the status math at the edges and exits 1 when expired or missing", async () => {
    const home = tempHome();
    const tokens = oauth.issueTokens();
    const cases: Array<[minutes: number, isExpired: boolean, soon: boolean]> = [
      [61, false, false],
      [60, false, true],
      [59, false, true],
      [1, false, true],
      [0, true, true],
      [-5, true, true],
    ];
    for (const [minutes, isExpired, soon] of cases) {
      // Half a minute inside the bucket, so the seconds the CLI takes to start cannot move it.
      const expiresAt = Date.now() + minutes * 60_000 + (minutes < 0 ? -30_000 : 30_000);
      await runCli(
        [
          "login",
          "--access-token",
          tokens.access_token,
          "--refresh-token",
          tokens.refresh_token,
          "--expires-at",
          String(expiresAt),
        ],
        { CODEX_PROXY_HOME: home },
      );
      const status = await runCli(["status", "--json"], { CODEX_PROXY_HOME: home });
      const json = JSON.parse(status.stdout);
      expect({ minutes, got: json.minutesUntilExpiry, isExpired: json.isExpired, soon: json.needsRefreshSoon }).toEqual(
        { minutes, got: minutes, isExpired, soon },
      );
      expect(status.code).toBe(isExpired ? 1 : 0);
    }
    const empty = await runCli(["status", "--json"], { CODEX_PROXY_HOME: tempHome() });
    expect(JSON.parse(empty.stdout)).toEqual({ type: "oauth", hasCredentials: false });
    expect(empty.code).toBe(1);
  });

  it("fails fast without a TTY and without the needed flags, naming them", async () => {
    const started = Date.now();
    const result = await runCli(["login"], { CODEX_PROXY_HOME: tempHome(), CODEX_AUTH_ISSUER: oauth.issuer });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--device/);
    expect(result.stderr).toMatch(/--access-token/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const manual = await runCli(["login", "--manual"], { CODEX_PROXY_HOME: tempHome() });
    expect(manual.code).not.toBe(0);
    expect(manual.stderr).toMatch(/terminal/);
  });
});

describe("login --import", () => {
  function codexHome(tokens: { access_token: string; refresh_token: string; id_token: string }) {
    const dir = tempHome("codex-home-");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, "auth.json"),
      JSON.stringify(
        {
          OPENAI_API_KEY: null,
          tokens: { ...tokens, account_id: "acct_fake_123" },
          last_refresh: new Date().toISOString(),
        },
        null,
        2,
      ),
      { mode: 0o600 },
    );
    return dir;
  }

  it("imports $CODEX_HOME/auth.json and refreshes once to fork an independent chain", async () => {
    const tokens = oauth.issueTokens();
    const home = tempHome();
    const before = oauth.refreshCount;
    const result = await runCli(["login", "--import"], {
      CODEX_PROXY_HOME: home,
      CODEX_HOME: codexHome(tokens),
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(result.code).toBe(0);
    expect(oauth.refreshCount).toBe(before + 1);
    const creds = stored(home);
    expect(creds.refreshToken).not.toBe(tokens.refresh_token);
    expect(creds.accessToken).not.toBe(tokens.access_token);
    expect(creds.email).toBe("ada@example.com");
    expectNoSecrets(
      result.stdout + result.stderr,
      tokens.access_token,
      tokens.refresh_token,
      creds.accessToken,
      creds.refreshToken,
    );
  });

  it("with --no-refresh keeps the imported tokens and warns", async () => {
    const tokens = oauth.issueTokens();
    const home = tempHome();
    const before = oauth.refreshCount;
    const dir = codexHome(tokens);
    const result = await runCli(["login", "--import", path.join(dir, "auth.json"), "--no-refresh"], {
      CODEX_PROXY_HOME: home,
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/refresh_token_reused/);
    expect(oauth.refreshCount).toBe(before);
    expect(stored(home).refreshToken).toBe(tokens.refresh_token);
  });

  it("imports CLIProxyAPI's flat per-account file, and explains an API-key login it cannot import", async () => {
    const tokens = oauth.issueTokens();
    const home = tempHome();
    const dir = tempHome("cli-proxy-api-");
    const file = path.join(dir, "codex-ada@example.com.json");
    const expired = new Date(Date.now() + 3600_000).toISOString();
    writeFileSync(
      file,
      JSON.stringify({
        ...tokens,
        account_id: "acct_fake_123",
        last_refresh: new Date().toISOString(),
        email: "ada@example.com",
        type: "codex",
        expired,
      }),
      { mode: 0o600 },
    );
    const result = await runCli(["login", "--import", file, "--no-refresh"], {
      CODEX_PROXY_HOME: home,
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(stored(home)).toMatchObject({
      refreshToken: tokens.refresh_token,
      accountId: "acct_fake_123",
      email: "ada@example.com",
    });

    const apiKey = path.join(dir, "auth.json");
    writeFileSync(apiKey, JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-test-not-a-real-key" }));
    const refused = await runCli(["login", "--import", apiKey], {
      CODEX_PROXY_HOME: tempHome(),
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/API-key login, not a ChatGPT one/);
    expect(refused.stderr).not.toContain("sk-test-not-a-real-key");
  });

  it("explains a missing auth.json", async () => {
    const result = await runCli(["login", "--import"], {
      CODEX_PROXY_HOME: tempHome(),
      CODEX_HOME: tempHome("empty-"),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/No Codex CLI login/);
  });
});

describe("login --device and browser PKCE", () => {
  it("completes a device-code login", async () => {
    const home = tempHome();
    const result = await runCli(["login", "--device"], { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${oauth.issuer}/codex/device`);
    expect(result.stdout).toContain("ABCD-EFGH");
    expect(stored(home).email).toBe("ada@example.com");
  });

  it("completes the browser flow with an HTTP client playing the browser", async () => {
    const home = tempHome();
    const port = await freePort();
    const cli = startCli(["login", "--no-browser"], {
      CODEX_PROXY_HOME: home,
      CODEX_AUTH_ISSUER: oauth.issuer,
      CODEX_PROXY_CALLBACK_PORTS: String(port),
    });
    const [authorizeUrl] = await cli.waitFor(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+$/m);
    const url = new URL(authorizeUrl);
    expect(url.searchParams.get("redirect_uri")).toBe(`http://localhost:${port}/auth/callback`);
    expect(authorizeUrl).toContain("scope=openid%20profile%20email%20offline_access");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");

    // A wrong state is refused and the login keeps waiting.
    const forged = await fetch(`http://127.0.0.1:${port}/auth/callback?code=x&state=forged`);
    expect(forged.status).toBe(400);

    const authorize = await fetch(authorizeUrl, { redirect: "manual" });
    expect(authorize.status).toBe(302);
    const callback = authorize.headers.get("location")!.replace("localhost", "127.0.0.1");
    const page = await fetch(callback);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Signed in");
    expect(await cli.exited).toBe(0);
    expect(stored(home)).toMatchObject({ email: "ada@example.com", accountId: "acct_fake_123" });
    expectNoSecrets(cli.output(), stored(home).accessToken, stored(home).refreshToken);
  });

  it("login --manual in a terminal asks for the tokens with masked prompts and stores them", async () => {
    const home = tempHome();
    const claims = {
      exp: Math.floor(Date.now() / 1000) + 86400,
      "https://api.openai.com/auth": { chatgpt_account_id: "acct_manual" },
    };
    const access = `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;
    const refresh = "rt_manual_refresh_token_value";
    const cli = startCli(["login", "--manual"], { CODEX_PROXY_HOME: home }, { terminal: true });
    await cli.waitFor(/Access token/, 5000);
    cli.child.stdin.write(`${access}\r`);
    await cli.waitFor(/Refresh token/, 5000);
    cli.child.stdin.write(`${refresh}\r`);
    const code = await Promise.race([cli.exited, new Promise((r) => setTimeout(() => r("hung"), 5000))]);
    expect(code, JSON.stringify(cli.output().slice(-800))).toBe(0);
    expect(cli.output()).toMatch(/Logged in\. The access token expires in 23 hours/);
    expect(stored(home)).toMatchObject({ accessToken: access, refreshToken: refresh, accountId: "acct_manual" });
    expectNoSecrets(cli.output(), access, refresh);
  });

  it("in a terminal, takes a pasted redirect URL, asking again after a wrong one", async () => {
    const home = tempHome();
    const port = await freePort();
    const cli = startCli(
      ["login", "--no-browser"],
      { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer, CODEX_PROXY_CALLBACK_PORTS: String(port) },
      { terminal: true },
    );
    const [authorizeUrl] = await cli.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?[^\s]+/, 5000);
    await cli.waitFor(/paste the address it ended on here/, 5000);
    // The browser is elsewhere: its redirect to localhost never reaches us, the user copies it instead.
    const authorize = await fetch(authorizeUrl, { redirect: "manual" });
    const redirect = authorize.headers.get("location")!;
    cli.child.stdin.write("not a url\n");
    await cli.waitFor(/That is not a URL/, 5000);
    cli.child.stdin.write(`${redirect.replace(/state=[^&]+/, "state=stale")}\n`);
    await cli.waitFor(/different login attempt/, 5000);
    cli.child.stdin.write(`${redirect}\n`);
    const code = await Promise.race([cli.exited, new Promise((r) => setTimeout(() => r("hung"), 5000))]);
    expect(code, JSON.stringify(cli.output().slice(-1500))).toBe(0);
    expect(cli.output()).toMatch(/Logged in as ada@example\.com/);
    expect(stored(home)).toMatchObject({ email: "ada@example.com", accountId: "acct_fake_123" });
  });

  it("ends with the issuer's reason when the sign-in was refused (missing Codex entitlement)", async () => {
    const port = await freePort();
    const cli = startCli(["login", "--no-browser"], {
      CODEX_PROXY_HOME: tempHome(),
      CODEX_AUTH_ISSUER: oauth.issuer,
      CODEX_PROXY_CALLBACK_PORTS: String(port),
    });
    await cli.waitFor(/oauth\/authorize\?/);
    const refused = await fetch(
      `http://127.0.0.1:${port}/auth/callback?error=access_denied&error_description=missing_codex_entitlement`,
    );
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Codex is not enabled for this ChatGPT workspace");
    expect(await cli.exited).not.toBe(0);
    expect(cli.output()).toMatch(/Codex is not enabled for this ChatGPT workspace \(missing_codex_entitlement\)/);
  });

  it("times out with a clear message", async () => {
    const port = await freePort();
    const result = await runCli(["login", "--no-browser", "--timeout", "1"], {
      CODEX_PROXY_HOME: tempHome(),
      CODEX_AUTH_ISSUER: oauth.issuer,
      CODEX_PROXY_CALLBACK_PORTS: String(port),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Timed out/);
  });
});

describe("logout", () => {
  it("removes the credentials and revokes the refresh token", async () => {
    const home = tempHome();
    const tokens = oauth.issueTokens();
    await runCli(["login", "--access-token", tokens.access_token, "--refresh-token", tokens.refresh_token], {
      CODEX_PROXY_HOME: home,
    });
    const result = await runCli(["logout"], { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Removed/);
    expect(oauth.revoked).toContain(tokens.refresh_token);
    expect((await runCli(["status", "--json"], { CODEX_PROXY_HOME: home })).code).toBe(1);
  });
});
