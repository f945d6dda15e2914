/**
 * The harness of the token-chain tests: a fake issuer with single-use
 * rotating refresh tokens, a fake backend that accepts what it issues, real
 * `serve` processes on a home, and waits bounded in time. A test file calls
 * `useTokenChainHarness()` once; `oauth` and `backend` are live bindings set
 * before its tests run.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { ConfCredentialStore } from "../../src/node/conf-store.js";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer, type IssuedTokens } from "../fake/oauth-server.js";
import { startServe, stopServes, type ServeProcess } from "./cli.js";

export let backend: FakeCodexBackend;
export let oauth: FakeOAuthServer;
export const ADMIN_KEY = "token-chain-admin-key-0123456789";

/** Starts the fakes before the file's tests and closes them after. */
export function useTokenChainHarness(): void {
  beforeAll(async () => {
    oauth = await startFakeOAuthServer({ accessTokenTtlSeconds: 3600 });
    backend = await startFakeCodexBackend({ acceptedTokens: [] });
    oauth.onAccessToken((token) => backend.acceptToken(token));
  });
  afterAll(async () => {
    await backend?.close();
    await oauth?.close();
  });
  beforeEach(() => {
    oauth.setRefreshDelay(0);
  });
}

export const credentialFile = (home: string) => path.join(home, "credentials.json");
export const lockFile = (home: string) => `${credentialFile(home)}.lock`;
/** The stored credentials, or undefined when there are none (logout removes the file). */
export const readStored = (home: string) =>
  existsSync(credentialFile(home))
    ? (JSON.parse(readFileSync(credentialFile(home), "utf8")) as { credentials?: Record<string, unknown> }).credentials
    : undefined;

/** Stores a login from `issuer` whose access token expires in `expiresInMs` (inside the refresh window when short). */
export async function seed(home: string, expiresInMs: number, issuer: FakeOAuthServer = oauth): Promise<IssuedTokens> {
  const tokens = issuer.issueTokens();
  await new ConfCredentialStore({ cwd: home }).set({
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + expiresInMs,
    accountId: "acct_fake_123",
  });
  return tokens;
}

export type Serve = ServeProcess;

export function serve(home: string, env: Record<string, string> = {}): Promise<Serve> {
  return startServe({
    CODEX_PROXY_HOME: home,
    CODEX_AUTH_ISSUER: oauth.issuer,
    CODEX_BASE_URL: backend.url,
    LOG_LEVEL: "info",
    ...env,
  });
}

export const stop = stopServes;

export function chat(url: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
  });
}

/** Waits (bounded) until `condition` holds. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts a refresh in `server` that the fake issuer holds for `delayMs`, and returns once the
 * issuer has it, with the request that triggered it (wrapped: returning the promise itself
 * from an async function would wait for it).
 */
export async function refreshInFlight(server: Serve, delayMs: number) {
  oauth.setRefreshDelay(delayMs);
  const before = oauth.refreshCount;
  const request = chat(server.url);
  request.catch(() => undefined);
  await until(() => oauth.refreshCount > before, "the refresh to reach the issuer");
  return { request };
}

export function jwt(claims: Record<string, unknown>): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${b64({ alg: "none" })}.${b64(claims)}.sig`;
}
