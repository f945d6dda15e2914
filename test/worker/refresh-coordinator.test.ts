/**
 * The cross-isolate refresh design, run in Node with in-memory stand-ins for
 * KV (including a copy that lags, as KV does between locations) and for the
 * Durable Object's storage, against the fake OAuth issuer. The same classes
 * run under workerd in worker.test.ts; here the races are set up exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODEX_CLIENT_ID } from "../../src/auth/constants.js";
import {
  CoordinatedAuth,
  CoordinatedCredentialStore,
  type CoordinatorStub,
} from "../../src/worker/coordinator-client.js";
import { KvCredentialStore } from "../../src/worker/kv-store.js";
import { RefreshCoordinator } from "../../src/worker/refresh-coordinator.js";
import type { StoredCredentials } from "../../src/credentials/types.js";
import worker from "../../src/worker/index.js";
import type { KvNamespace, WorkerEnv } from "../../src/worker/env.js";
import { LaggingKv, MemoryKv, MemoryStorage } from "../helpers/worker-memory.js";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";

let oauth: FakeOAuthServer;
beforeAll(async () => {
  oauth = await startFakeOAuthServer();
});
afterAll(() => oauth?.close());

/** One Durable Object and a way for "isolates" to reach it, as the binding does. */
function deployment(coordinatorKv: KvNamespace) {
  const coordinator = new RefreshCoordinator(
    { storage: new MemoryStorage() },
    { CODEX_PROXY_KV: coordinatorKv, CODEX_AUTH_ISSUER: oauth.issuer, LOG_LEVEL: "error" },
  );
  const stub: CoordinatorStub = () => ({ fetch: (input, init) => coordinator.fetch(new Request(input, init)) });
  const isolate = (kv: KvNamespace) => new CoordinatedAuth(new KvCredentialStore(kv), stub, oauth.issuer);
  return { admin: new CoordinatedCredentialStore(stub), isolate };
}

function expiring(inMs: number): StoredCredentials {
  const tokens = oauth.issueTokens();
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + inMs,
    accountId: "acct_fake_123",
  };
}

describe("RefreshCoordinator", () => {
  it("gives isolates one refresh, and adopts it for an isolate whose KV copy lags", async () => {
    const kv = new MemoryKv();
    const lagging = new LaggingKv(kv);
    const { admin, isolate } = deployment(kv);
    const pushed = expiring(5 * 60_000);
    await admin.set(pushed);
    lagging.freeze();
    const before = oauth.refreshCount;

    const [a, b] = [isolate(kv), isolate(kv)];
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).getAuth()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tokens[0]!.accessToken).not.toBe(pushed.accessToken);
    expect(oauth.refreshCount - before).toBe(1);
    // Rotated tokens reached KV (the hot path's copy) as well as the coordinator.
    expect(JSON.parse(kv.values.get("codex_proxy_credentials")!).accessToken).toBe(tokens[0]!.accessToken);

    // An isolate that still sees the pushed token asks the coordinator, which adopts instead of refreshing.
    const c = isolate(lagging);
    expect((await c.getAuth()).accessToken).toBe(tokens[0]!.accessToken);
    expect((await c.refreshAfterUnauthorized({ accessToken: pushed.accessToken })).accessToken).toBe(
      tokens[0]!.accessToken,
    );
    expect(oauth.refreshCount - before).toBe(1);
  });

  it("trusts its own storage over a KV copy that has not caught up with its writes", async () => {
    const kv = new MemoryKv();
    const lagging = new LaggingKv(kv);
    const { admin, isolate } = deployment(lagging);
    // Bootstrap: the lagging KV holds the push, and the coordinator's own write never shows up in it.
    const pushed = expiring(5 * 60_000);
    await new KvCredentialStore(kv).set(pushed);
    lagging.freeze();
    const before = { refreshes: oauth.refreshCount, reused: oauth.reusedCount };

    const first = await isolate(lagging).getAuth();
    const second = await isolate(lagging).getAuth();
    expect(second.accessToken).toBe(first.accessToken);
    expect(oauth.refreshCount - before.refreshes).toBe(1);
    expect(oauth.reusedCount - before.reused).toBe(0);
    expect((await admin.get())!.accessToken).toBe(first.accessToken);
  });

  it("lets a push wait for a refresh in flight and win over it", async () => {
    const kv = new MemoryKv();
    const { admin, isolate } = deployment(kv);
    await admin.set(expiring(5 * 60_000));
    oauth.setRefreshDelay(300);
    try {
      const before = oauth.refreshCount;
      const refreshing = isolate(kv).getAuth();
      // The push lands once the refresh has reached the issuer (which holds its answer back for 300 ms).
      await expect.poll(() => oauth.refreshCount, { interval: 5 }).toBe(before + 1);
      const fresh = expiring(5 * 3600_000);
      await admin.set(fresh);
      await refreshing;
      expect((await admin.get())!.refreshToken).toBe(fresh.refreshToken);
      expect(JSON.parse(kv.values.get("codex_proxy_credentials")!).refreshToken).toBe(fresh.refreshToken);
    } finally {
      oauth.setRefreshDelay(0);
    }
  });

  it("reports a chain spent elsewhere with what to do, and records it for status", async () => {
    const kv = new MemoryKv();
    const { admin, isolate } = deployment(kv);
    const pushed = expiring(5 * 60_000);
    await admin.set(pushed);
    // Someone else (a machine that kept its copy) rotates the chain first.
    const spent = await fetch(`${oauth.issuer}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "refresh_token",
        client_id: CODEX_CLIENT_ID,
        refresh_token: pushed.refreshToken,
      }),
    });
    expect(spent.status).toBe(200);
    const error = await isolate(kv)
      .getAuth()
      .catch((e: unknown) => e as { status: number; message: string });
    expect(error).toMatchObject({ status: 401 });
    expect((error as { message: string }).message).toMatch(/already used/);
    expect((error as { message: string }).message).toMatch(/push-credentials/);
    expect((await admin.get())!.lastRefreshError).toMatch(/already used/);
  });

  it("clears with a tombstone, so a lagging KV copy is not resurrected", async () => {
    const kv = new MemoryKv();
    const lagging = new LaggingKv(kv);
    const { admin } = deployment(lagging);
    await new KvCredentialStore(kv).set(expiring(3600_000));
    lagging.freeze();
    expect(await admin.get()).toBeDefined();
    await admin.clear();
    expect(await admin.get()).toBeUndefined();
  });
});

describe("Worker entry", () => {
  let backend: FakeCodexBackend;
  beforeAll(async () => {
    backend = await startFakeCodexBackend({ issuers: [oauth] });
  });
  afterAll(() => backend?.close());

  it("uses an ACCESS_TOKEN secret as is, and then keeps the admin API read-only", async () => {
    const env: WorkerEnv = {
      ADMIN_API_KEY: "admin-k",
      ACCESS_TOKEN: oauth.issueTokens().access_token,
      CODEX_BASE_URL: backend.url,
      LOG_LEVEL: "error",
    };
    const call = (path: string, init: RequestInit = {}) =>
      worker.fetch(
        new Request(`http://worker${path}`, {
          ...init,
          headers: { "x-api-key": "admin-k", "content-type": "application/json" },
        }),
        env,
      );
    const chat = await call("/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ messages: [{ role: "user", content: "env" }] }),
    });
    expect(chat.status).toBe(200);
    expect((await chat.json()).choices[0].message.content).toBe("Echo: env");
    const status = await call("/admin/credentials/status");
    expect(status.status).toBe(503);
    expect((await status.json()).error.code).toBe("store_read_only");
  });

  it("names the missing binding instead of failing obscurely", async () => {
    const res = await worker.fetch(new Request("http://worker/health"), { ADMIN_API_KEY: "k" });
    expect(res.status).toBe(503);
    expect((await res.json()).error.message).toMatch(/CODEX_PROXY_KV/);
  });
});
