/**
 * login / status / logout as a user runs them: on argv, with a temporary
 * CODEX_PROXY_HOME, the fake OAuth issuer and no TTY. In-process for speed;
 * as a real process where only a process shows it (no TTY, a pseudo-terminal).
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { runCli, runCliInProcess, startCli, startCliInProcess, tempHome } from "../helpers/cli.js";
import { accessToken } from "../helpers/jwt.js";
import { freePort } from "../helpers/net.js";

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

function expectNoSecrets(text: string, ...secrets: string[]) {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe("login with flags", () => {
  it("stores the tokens exactly as given, in a 0600 file, and status reads them back", async () => {
    const home = tempHome();
    const tokens = oauth.issueTokens();
    const expiresAt = Date.now() + 3 * 3600_000;
    const login = await runCliInProcess(
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

    const status = await runCliInProcess(["status", "--json"], { CODEX_PROXY_HOME: home });
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

    const human = await runCliInProcess(["status"], { CODEX_PROXY_HOME: home });
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
      await runCliInProcess(
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
      const status = await runCliInProcess(["status", "--json"], { CODEX_PROXY_HOME: home });
      const json = JSON.parse(status.stdout);
      expect({ minutes, got: json.minutesUntilExpiry, isExpired: json.isExpired, soon: json.needsRefreshSoon }).toEqual(
        { minutes, got: minutes, isExpired, soon },
      );
      expect(status.code).toBe(isExpired ? 1 : 0);
    }
    const empty = await runCliInProcess(["status", "--json"], { CODEX_PROXY_HOME: tempHome() });
    expect(JSON.parse(empty.stdout)).toEqual({ type: "oauth", hasCredentials: false });
    expect(empty.code).toBe(1);
  });

  it("as a process without a TTY, fails fast without the needed flags, naming them, with exit code 1", async () => {
    // A real process: its stdin and stdout are pipes, and its exit code is what the shell sees.
    const result = await runCli(["login"], { CODEX_PROXY_HOME: tempHome(), CODEX_AUTH_ISSUER: oauth.issuer });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--device/);
    expect(result.stderr).toMatch(/--access-token/);
    const manual = await runCliInProcess(["login", "--manual"], { CODEX_PROXY_HOME: tempHome() });
    expect(manual.code).toBe(1);
    expect(manual.stderr).toMatch(/terminal/);
  });

  it("answers a usage error, --help and --version with commander's output and exit code", async () => {
    const unknown = await runCliInProcess(["login", "--bogus"], { CODEX_PROXY_HOME: tempHome() });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
    const help = await runCliInProcess(["status", "--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: codex-proxy status/);
    const version = await runCliInProcess(["--version"], {});
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
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
    const result = await runCliInProcess(["login", "--import"], {
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
    const result = await runCliInProcess(["login", "--import", path.join(dir, "auth.json"), "--no-refresh"], {
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
    const result = await runCliInProcess(["login", "--import", file, "--no-refresh"], {
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
    const refused = await runCliInProcess(["login", "--import", apiKey], {
      CODEX_PROXY_HOME: tempHome(),
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/API-key login, not a ChatGPT one/);
    expect(refused.stderr).not.toContain("sk-test-not-a-real-key");
  });

  it("explains a missing auth.json", async () => {
    const result = await runCliInProcess(["login", "--import"], {
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
    const result = await runCliInProcess(["login", "--device"], {
      CODEX_PROXY_HOME: home,
      CODEX_AUTH_ISSUER: oauth.issuer,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${oauth.issuer}/codex/device`);
    expect(result.stdout).toContain("ABCD-EFGH");
    expect(stored(home).email).toBe("ada@example.com");
  });

  it("completes the browser flow with an HTTP client playing the browser", async () => {
    const home = tempHome();
    const port = await freePort();
    const cli = startCliInProcess(["login", "--no-browser"], {
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
    const access = accessToken({ accountId: "acct_manual" });
    const refresh = "rt_manual_refresh_token_value";
    const cli = startCli(["login", "--manual"], { CODEX_PROXY_HOME: home }, { terminal: true });
    await cli.waitFor(/Access token/);
    cli.child.stdin.write(`${access}\r`);
    await cli.waitFor(/Refresh token/);
    cli.child.stdin.write(`${refresh}\r`);
    expect(await cli.exited, JSON.stringify(cli.output().slice(-800))).toBe(0);
    expect(cli.output()).toMatch(/Logged in\. The access token expires in 23 hours/);
    expect(stored(home)).toMatchObject({ accessToken: access, refreshToken: refresh, accountId: "acct_manual" });
    expectNoSecrets(cli.output(), access, refresh);
  });

  it("with a person there, takes a pasted redirect URL, asking again after a wrong one", async () => {
    const home = tempHome();
    const port = await freePort();
    const cli = startCliInProcess(
      ["login", "--no-browser"],
      { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer, CODEX_PROXY_CALLBACK_PORTS: String(port) },
      { interactive: true },
    );
    const [authorizeUrl] = await cli.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?[^\s]+/);
    await cli.waitFor(/paste the address it ended on here/);
    // The browser is elsewhere: its redirect to localhost never reaches us, the user copies it instead.
    const authorize = await fetch(authorizeUrl, { redirect: "manual" });
    const redirect = authorize.headers.get("location")!;
    cli.stdin.write("not a url\n");
    await cli.waitFor(/That is not a URL/);
    cli.stdin.write(`${redirect.replace(/state=[^&]+/, "state=stale")}\n`);
    await cli.waitFor(/different login attempt/);
    cli.stdin.write(`${redirect}\n`);
    expect(await cli.exited, JSON.stringify(cli.output().slice(-1500))).toBe(0);
    expect(cli.output()).toMatch(/Logged in as ada@example\.com/);
    expect(stored(home)).toMatchObject({ email: "ada@example.com", accountId: "acct_fake_123" });
  });

  it("ends with the issuer's reason when the sign-in was refused (missing Codex entitlement)", async () => {
    const port = await freePort();
    const cli = startCliInProcess(["login", "--no-browser"], {
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
    const result = await runCliInProcess(["login", "--no-browser", "--timeout", "1"], {
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
    await runCliInProcess(["login", "--access-token", tokens.access_token, "--refresh-token", tokens.refresh_token], {
      CODEX_PROXY_HOME: home,
    });
    const result = await runCliInProcess(["logout"], { CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Removed/);
    expect(oauth.revoked).toContain(tokens.refresh_token);
    expect((await runCliInProcess(["status", "--json"], { CODEX_PROXY_HOME: home })).code).toBe(1);
  });
});
