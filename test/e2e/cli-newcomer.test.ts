/**
 * What a newcomer tripped over, each checked the way they met it: the
 * commands run in-process (`runLogin`, `runStatus`, `runLogout`, `runServe`)
 * with their own environment, streams and a temporary CODEX_PROXY_HOME,
 * against the fake OAuth issuer and the fake Codex backend; a few spawn the
 * built CLI for exit codes and packaging.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLogin } from "../../src/cli/login.js";
import { runLogout } from "../../src/cli/logout.js";
import { runServe } from "../../src/cli/serve.js";
import { runStatus } from "../../src/cli/status.js";
import { openCredentialStore } from "../../src/cli/credential-store.js";
import { silentLogger } from "../../src/core/logging.js";
import { VERSION } from "../../src/core/version.js";
import { TokenManager } from "../../src/credentials/token-manager.js";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { runCli, tempHome } from "../helpers/cli.js";
import { FixedAuth, startTestProxy } from "../helpers/proxy.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let oauth: FakeOAuthServer;
beforeAll(async () => {
  oauth = await startFakeOAuthServer({ email: "ada@example.com", plan: "pro" });
});
afterAll(async () => oauth?.close());

/** A stream that keeps what was written, for the assertions. */
function sink() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

/** In-process streams for one command: stdout and stderr apart, no terminal unless asked. */
function io(options: { interactive?: boolean; now?: () => number } = {}) {
  const stdout = sink();
  const stderr = sink();
  const stdin = new PassThrough();
  return {
    io: { stdout: stdout.stream, stderr: stderr.stream, stdin, interactive: options.interactive ?? false, ...options },
    stdin,
    out: stdout.text,
    err: stderr.text,
  };
}

function credentialFile(home: string) {
  return path.join(home, "credentials.json");
}

function stored(home: string) {
  return JSON.parse(readFileSync(credentialFile(home), "utf8")).credentials;
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function loginWithFlags(home: string, flags: Record<string, string> = {}) {
  const tokens = oauth.issueTokens();
  const run = io();
  const code = await runLogin(
    { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, ...flags },
    { CODEX_PROXY_HOME: home },
    run.io,
  );
  return { tokens, code, ...run };
}

describe("login refuses what it cannot honour, before doing anything", () => {
  it("rejects a --timeout that is not a positive number of seconds", async () => {
    for (const timeout of ["abc", "0", "-5", ""]) {
      const home = tempHome();
      const run = io();
      await expect(runLogin({ browser: false, timeout }, { CODEX_PROXY_HOME: home }, run.io)).rejects.toThrow(
        /--timeout must be a number of seconds greater than 0/,
      );
      expect(run.out()).not.toMatch(/NaN/);
      expect(existsSync(credentialFile(home))).toBe(false);
    }
  });

  it("refuses two login methods at once, naming both", async () => {
    const env = { CODEX_PROXY_HOME: tempHome() };
    await expect(runLogin({ device: true, manual: true }, env, io().io)).rejects.toThrow(
      /--device and --manual are different ways to log in/,
    );
    await expect(runLogin({ import: true, accessToken: "a", refreshToken: "r" }, env, io().io)).rejects.toThrow(
      /--import and --access-token are different ways to log in/,
    );
    await expect(runLogin({ device: true, expiresAt: "1" }, env, io().io)).rejects.toThrow(
      /--expires-at goes with --access-token/,
    );
    expect(existsSync(credentialFile(env.CODEX_PROXY_HOME))).toBe(false);
  });

  it("refuses an --account-id that contradicts the token's account claim", async () => {
    const home = tempHome();
    await expect(loginWithFlags(home, { accountId: "acct_someone_else" })).rejects.toThrow(
      /--account-id acct_someone_else does not match the account the access token was issued for \(acct_fake_123\)/,
    );
    expect(existsSync(credentialFile(home))).toBe(false);
    // The same id as the claim is fine.
    expect((await loginWithFlags(home, { accountId: "acct_fake_123" })).code).toBe(0);
  });
});

describe("login --expires-at", () => {
  it("reads epoch seconds as seconds, not as a date in 1970", async () => {
    const home = tempHome();
    const seconds = Math.floor(Date.now() / 1000) + 7200;
    const { code } = await loginWithFlags(home, { expiresAt: String(seconds) });
    expect(code).toBe(0);
    expect(stored(home).expiresAt).toBe(seconds * 1000);
  });

  it("keeps milliseconds as they are, takes an ISO date, and refuses words", async () => {
    const home = tempHome();
    const ms = Date.now() + 7200_000;
    await loginWithFlags(home, { expiresAt: String(ms) });
    expect(stored(home).expiresAt).toBe(ms);
    await loginWithFlags(home, { expiresAt: "2031-01-01T00:00:00Z" });
    expect(stored(home).expiresAt).toBe(Date.parse("2031-01-01T00:00:00Z"));
    await expect(loginWithFlags(tempHome(), { expiresAt: "tomorrow" })).rejects.toThrow(
      /--expires-at: "tomorrow" is not a time/,
    );
  });
});

describe("login messages", () => {
  it("says an expired access token is expired and what happens next, not 'expires 1 hour ago'", async () => {
    const home = tempHome();
    const { code, out } = await loginWithFlags(home, { expiresAt: String(Date.now() - 3600_000) });
    expect(code).toBe(0);
    expect(out()).toMatch(/The access token has already expired \(1 hour ago\)/);
    expect(out()).toMatch(/renews it with the refresh token/);
    expect(out()).not.toMatch(/expires 1 hour ago/);
  });

  it("records no 'last refresh' for a login, so status shows none", async () => {
    const home = tempHome();
    await loginWithFlags(home);
    expect(stored(home).lastRefresh).toBeUndefined();
    const status = io();
    expect(await runStatus({}, { CODEX_PROXY_HOME: home }, status.io)).toBe(0);
    expect(status.out()).not.toMatch(/last refresh/);
  });
});

describe("login --manual", () => {
  it("asks again after an empty answer or a bad expiry, at the prompt, and keeps what was typed", async () => {
    const home = tempHome();
    const run = io({ interactive: true });
    const waitFor = async (pattern: RegExp) => {
      // Bounded: 400 polls of 10 ms; prompts render within a few.
      for (let i = 0; i < 400 && !pattern.test(run.out()); i++) await new Promise((r) => setTimeout(r, 10));
      expect(run.out()).toMatch(pattern);
    };
    const done = runLogin({ manual: true }, { CODEX_PROXY_HOME: home }, run.io);
    await waitFor(/Access token/);
    run.stdin.write("\r");
    await waitFor(/Access token is required: paste it/);
    run.stdin.write("opaque-access-token-not-a-jwt\r");
    await waitFor(/Refresh token/);
    run.stdin.write("rt_manual_value\r");
    await waitFor(/Expiry/);
    run.stdin.write("soon\r");
    await waitFor(/"soon" is not a time/);
    run.stdin.write("\x7f\x7f\x7f\x7f");
    const seconds = Math.floor(Date.now() / 1000) + 86_400;
    run.stdin.write(`${seconds}\r`);
    await waitFor(/account id/);
    run.stdin.write("\r");
    expect(await done).toBe(0);
    expect(stored(home)).toEqual({
      accessToken: "opaque-access-token-not-a-jwt",
      refreshToken: "rt_manual_value",
      expiresAt: seconds * 1000,
    });
    expect(run.out()).not.toContain("rt_manual_value");
    expect(run.out()).not.toMatch(/--expires-at/);
  });
});

describe("status", () => {
  it("reports a credential file without a valid expiresAt as unusable, exit 1", async () => {
    const home = tempHome();
    writeFileSync(credentialFile(home), JSON.stringify({ credentials: { accessToken: "x", refreshToken: "r" } }), {
      mode: 0o600,
    });
    const human = io();
    expect(await runStatus({}, { CODEX_PROXY_HOME: home }, human.io)).toBe(1);
    expect(human.out()).toMatch(/UNUSABLE: the stored access-token expiry is missing or invalid/);
    expect(human.out()).not.toMatch(/Invalid Date/);
    const json = io();
    expect(await runStatus({ json: true }, { CODEX_PROXY_HOME: home }, json.io)).toBe(1);
    expect(JSON.parse(json.out()).error).toMatch(/expiry is missing or invalid/);
  });

  it("exits 1 when the refresh token was already spent elsewhere, and says to log in", async () => {
    const home = tempHome();
    const env = { CODEX_PROXY_HOME: home };
    // An access token inside its refresh window, so the token manager refreshes: the issuer refuses for good.
    await loginWithFlags(home, { expiresAt: String(Date.now() + 10 * 60_000) });
    const manager = new TokenManager({
      store: openCredentialStore(env),
      issuer: oauth.issuer,
      fetch: globalThis.fetch,
      now: Date.now,
      logger: silentLogger,
    });
    oauth.failNextRefresh("terminal");
    await expect(manager.getAuth()).rejects.toThrow(/refresh/);

    const human = io();
    expect(await runStatus({}, env, human.io)).toBe(1);
    expect(human.out()).toMatch(/UNUSABLE: the refresh token can no longer be used/);
    expect(human.out()).toMatch(/codex-proxy login/);
    const json = io();
    expect(await runStatus({ json: true }, env, json.io)).toBe(1);
    expect(JSON.parse(json.out())).toMatchObject({ isExpired: false, lastRefreshErrorTerminal: true });
  });

  it("shows ACCESS_TOKEN from the environment as what serve uses", async () => {
    const home = tempHome();
    await loginWithFlags(home);
    const envToken = oauth.issueTokens().access_token;
    const human = io();
    expect(await runStatus({}, { CODEX_PROXY_HOME: home, ACCESS_TOKEN: envToken }, human.io)).toBe(0);
    expect(human.out()).toMatch(/Credentials: ACCESS_TOKEN from the environment \(what `serve` uses/);
    expect(human.out()).toMatch(/stored login in .*credentials\.json is ignored/);
    expect(human.out()).not.toContain(envToken);
    const json = io();
    await runStatus({ json: true }, { CODEX_PROXY_HOME: home, ACCESS_TOKEN: envToken }, json.io);
    expect(JSON.parse(json.out())).toMatchObject({ source: "environment", hasCredentials: true, isExpired: false });
  });

  it("says a non-JWT ACCESS_TOKEN is not a JWT with an unknown expiry, not that it expired", async () => {
    const env = { CODEX_PROXY_HOME: tempHome(), ACCESS_TOKEN: "opaque-token-value" };
    const human = io();
    expect(await runStatus({}, env, human.io)).toBe(0);
    expect(human.out()).toMatch(/ACCESS_TOKEN is not a JWT: expiry unknown/);
    expect(human.out()).not.toMatch(/EXPIRED|expires in/);
    const json = io();
    await runStatus({ json: true }, env, json.io);
    expect(JSON.parse(json.out())).toMatchObject({ source: "environment", expiresAt: null, isExpired: null });
    // With EXPIRES_AT the expiry is known again.
    const known = io();
    const expiresAt = String(Math.floor(Date.now() / 1000) + 7200);
    expect(await runStatus({}, { ...env, EXPIRES_AT: expiresAt }, known.io)).toBe(0);
    expect(known.out()).toMatch(/expires in (1 hour 59 minutes|2 hours)/);
  });
});

describe("a corrupt credential file", () => {
  function corrupt() {
    const home = tempHome();
    writeFileSync(credentialFile(home), '{"credentials": {"accessToken": "half-writ', { mode: 0o600 });
    return home;
  }

  it("status --json still prints JSON, with an error field, exit 1", async () => {
    const json = io();
    expect(await runStatus({ json: true }, { CODEX_PROXY_HOME: corrupt() }, json.io)).toBe(1);
    const body = JSON.parse(json.out());
    expect(body).toMatchObject({ type: "oauth", hasCredentials: false });
    expect(body.error).toMatch(/cannot be read/);
    const human = io();
    expect(await runStatus({}, { CODEX_PROXY_HOME: corrupt() }, human.io)).toBe(1);
    expect(human.err()).toMatch(/codex-proxy logout/);
  });

  it("logout removes it, saying it was corrupt", async () => {
    const home = corrupt();
    const run = io();
    expect(await runLogout({ CODEX_PROXY_HOME: home }, run.io)).toBe(0);
    expect(run.out()).toMatch(/could not be read \(it is corrupt\).*removed it/);
    expect(existsSync(credentialFile(home))).toBe(false);
    // And the way back in works.
    expect((await loginWithFlags(home)).code).toBe(0);
  });
});

describe("logout", () => {
  it("leaves no empty file behind", async () => {
    const home = tempHome();
    await loginWithFlags(home);
    const run = io();
    expect(await runLogout({ CODEX_PROXY_HOME: home, CODEX_AUTH_ISSUER: oauth.issuer }, run.io)).toBe(0);
    expect(run.out()).toMatch(/Removed the stored credentials/);
    expect(existsSync(credentialFile(home))).toBe(false);
  });
});

describe("configuration is checked at start", () => {
  it("serve names every bad variable at once and starts nothing", async () => {
    await expect(
      runServe(
        {},
        {
          CODEX_PROXY_HOME: tempHome(),
          MAX_BODY_MB: "lots",
          REASONING_OUTPUT: "loud",
          LOG_LEVEL: "verbose",
          UPSTREAM_CONNECT_TIMEOUT_MS: "1m",
          UPSTREAM_IDLE_TIMEOUT_MS: "-1",
          PORT: "80a",
        },
      ),
    ).rejects.toThrow(
      /Invalid configuration \(6 variables\):\n {2}MAX_BODY_MB: .*\n {2}REASONING_OUTPUT: .*\n {2}LOG_LEVEL: .*\n {2}UPSTREAM_CONNECT_TIMEOUT_MS: .*\n {2}UPSTREAM_IDLE_TIMEOUT_MS: .*\n {2}PORT: /,
    );
  });

  it("the CLI exits 1 with the list", async () => {
    const result = await runCli(["serve"], { CODEX_PROXY_HOME: tempHome(), LOG_LEVEL: "loud", MAX_BODY_MB: "0" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/LOG_LEVEL: "loud" is not one of debug, info, warn, error/);
    expect(result.stderr).toMatch(/MAX_BODY_MB: "0" is not a positive number of MiB/);
  });
});

describe("network errors are named", () => {
  it("login --import names ECONNREFUSED when the issuer is down", async () => {
    const tokens = oauth.issueTokens();
    const codexHome = tempHome("codex-home-");
    writeFileSync(path.join(codexHome, "auth.json"), JSON.stringify({ tokens }));
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    await expect(
      runLogin(
        { import: true },
        { CODEX_PROXY_HOME: tempHome(), CODEX_HOME: codexHome, CODEX_AUTH_ISSUER: issuer },
        io().io,
      ),
    ).rejects.toThrow(/could not reach the OAuth issuer at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it("login --device names it too, instead of 'fetch failed'", async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    await expect(
      runLogin({ device: true }, { CODEX_PROXY_HOME: tempHome(), CODEX_AUTH_ISSUER: issuer }, io().io),
    ).rejects.toThrow(/Could not reach the OAuth issuer at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it("status --worker-url says what failed, never just TypeError", async () => {
    // Port 1 is refused by fetch itself: the error has a cause but no system code.
    const blocked = runStatus({ workerUrl: "http://127.0.0.1:1", adminKey: "k" }, {}, io().io);
    await expect(blocked).rejects.toThrow(/Could not reach http:\/\/127\.0\.0\.1:1 \(bad port\)/);
    const port = await closedPort();
    await expect(runStatus({ workerUrl: `http://127.0.0.1:${port}`, adminKey: "k" }, {}, io().io)).rejects.toThrow(
      /\(ECONNREFUSED\)/,
    );
  });
});

describe("/v1/models", () => {
  let backend: FakeCodexBackend;
  beforeAll(async () => {
    backend = await startFakeCodexBackend();
  });
  afterAll(async () => backend?.close());

  it("answers an effort-suffixed id that requests accept, under that id", async () => {
    const proxy = await startTestProxy({ codexBaseUrl: backend.url });
    try {
      for (const id of ["gpt-5.5-high", "gpt-5.5:low", "gpt-5.5"]) {
        const res = await fetch(`${proxy.baseURL}/models/${encodeURIComponent(id)}`);
        expect(res.status, id).toBe(200);
        expect(await res.json()).toMatchObject({ id, object: "model", owned_by: "openai" });
      }
      // An effort the model does not support is refused by requests, so it is not a model either.
      for (const id of ["gpt-5.5-ultra", "no-such-model"]) {
        const res = await fetch(`${proxy.baseURL}/models/${id}`);
        expect(res.status, id).toBe(404);
        expect((await res.json()).error.code).toBe("model_not_found");
      }
    } finally {
      await proxy.close(100);
    }
  });

  it("fetches the catalogue again once credentials appear, instead of listing the built-in models", async () => {
    const auth = new FixedAuth();
    auth.auth = undefined; // logged out (passing undefined to the constructor would give its default login)
    const proxy = await startTestProxy({ codexBaseUrl: backend.url, auth });
    try {
      const ids = async () =>
        ((await (await fetch(`${proxy.baseURL}/models`)).json()) as { data: Array<{ id: string }> }).data.map(
          (m) => m.id,
        );
      // Logged out: the backend cannot be asked, so the built-in list answers (it has models this account lacks).
      expect(await ids()).toContain("gpt-5.6-terra");
      // A login happens: the very next listing is the account's own catalogue.
      backend.acceptToken("fresh-login-token"); // the strict fake knows only the tokens it was given
      auth.auth = { accessToken: "fresh-login-token", accountId: "acct_new" };
      const afterLogin = await ids();
      expect(afterLogin).not.toContain("gpt-5.6-terra");
      expect(afterLogin.slice(0, 4)).toEqual(["gpt-5.6-sol", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini"]);
      const asked = backend.requests.filter((r) => r.path.includes("/models"));
      expect(asked.at(-1)?.headers.authorization).toBe("Bearer fresh-login-token");
    } finally {
      await proxy.close(100);
    }
  });
});

describe("pushing credentials", () => {
  it("records no refresh that never happened, so the Worker's status shows none", async () => {
    const backend = await startFakeCodexBackend();
    const store = openCredentialStore({ CODEX_PROXY_HOME: tempHome() });
    const proxy = await startTestProxy({ codexBaseUrl: backend.url, env: { ADMIN_API_KEY: "admin-key" }, store });
    try {
      const tokens = oauth.issueTokens();
      const headers = { authorization: "Bearer admin-key", "content-type": "application/json" };
      const pushed = await fetch(`${proxy.url}/admin/credentials`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          accessToken: tokens.access_token,
          refreshToken: tokens.refresh_token,
          expiresAt: Date.now() + 3600_000,
        }),
      });
      expect(pushed.status).toBe(200);
      const status = await (await fetch(`${proxy.url}/admin/credentials/status`, { headers })).json();
      expect(status).toMatchObject({ hasCredentials: true });
      expect(status.lastRefresh).toBeUndefined();
    } finally {
      await proxy.close(100);
      await backend.close();
    }
  });
});

describe("the command itself", () => {
  it("-V prints the version and bare codex-proxy prints help, both exit 0", async () => {
    const version = await runCli(["-V"], {});
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    const bare = await runCli([], {});
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/Usage: codex-proxy/);
    expect(bare.stdout).toMatch(/login/);
  });

  it("the package holds the built CLI, a LICENSE and no source maps or sources", async () => {
    const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: ROOT,
      env: { ...process.env, npm_config_offline: "true", npm_config_loglevel: "silent" },
    });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    for (const needed of ["LICENSE", "README.md", "bin/codex-proxy.mjs", "dist/cli/program.js"])
      expect(files).toContain(needed);
    expect(files.filter((f) => f.endsWith(".map") || f.startsWith("src/"))).toEqual([]);
    // The build (run by the test setup) must not point at sources the package does not ship.
    expect(readFileSync(path.join(ROOT, "dist/cli/program.js"), "utf8")).not.toMatch(/sourceMappingURL/);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.prepack).toMatch(/build/);
    expect(readFileSync(path.join(ROOT, "LICENSE"), "utf8")).toMatch(/MIT License[\s\S]*2026 codex-proxy contributors/);
  });
});
