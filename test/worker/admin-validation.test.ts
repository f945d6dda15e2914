/**
 * POST /admin/credentials on the Worker (wrangler's local runtime) checks a
 * push before it replaces the chain: the same route and rules as `serve`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { startLocalWorker, type LocalWorker } from "../helpers/worker.js";

const ADMIN = "worker-validation-admin-key-0123";
let oauth: FakeOAuthServer;
let worker: LocalWorker;

beforeAll(async () => {
  oauth = await startFakeOAuthServer();
  worker = await startLocalWorker({ ADMIN_API_KEY: ADMIN, CODEX_AUTH_ISSUER: oauth.issuer });
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await oauth?.close();
});

const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

async function push(body: Record<string, unknown>) {
  const res = await fetch(`${worker.url}/admin/credentials`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: { param: string; message: string } } };
}

const status = async () => (await fetch(`${worker.url}/admin/credentials/status`, { headers })).json();

function jwt(claims: Record<string, unknown>): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${b64({ alg: "none" })}.${b64(claims)}.sig`;
}

describe("admin push validation on the Worker", () => {
  it("refuses a non-JWT access token, a JWT without exp, an empty refresh token and a microsecond expiry, keeping the stored chain", async () => {
    const tokens = oauth.issueTokens();
    const expiresAt = Date.now() + 3 * 3600_000;
    expect(
      (await push({ accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresAt })).status,
    ).toBe(200);
    const stored = await status();
    expect(stored).toMatchObject({ hasCredentials: true, expiresAt });

    const notJwt = await push({ accessToken: "opaque-token", refreshToken: "rt_x", expiresAt });
    expect(notJwt.status).toBe(400);
    expect(notJwt.body.error).toMatchObject({ param: "accessToken" });
    expect(notJwt.body.error!.message).toMatch(/JWT/);
    const noExp = await push({ accessToken: jwt({ sub: "x" }), refreshToken: "rt_x", expiresAt });
    expect(noExp.body.error).toMatchObject({ param: "accessToken" });
    const good = jwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    expect((await push({ accessToken: good, refreshToken: "", expiresAt })).body.error).toMatchObject({
      param: "refreshToken",
    });
    const micro = await push({ accessToken: good, refreshToken: "rt_x", expiresAt: expiresAt * 1000 });
    expect(micro.status).toBe(400);
    expect(micro.body.error).toMatchObject({ param: "expiresAt" });

    expect(await status()).toMatchObject({ hasCredentials: true, expiresAt, userID: stored.userID });
  });
});
