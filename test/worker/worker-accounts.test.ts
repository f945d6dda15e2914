/**
 * The Worker's accounts in Node, with in-memory stand-ins for KV and for one
 * Durable Object per name, against the fake OAuth issuer: each account's
 * chain in its own object, the registry, cooldowns that never shorten, and a
 * Worker from before pools read in place. (worker-pool.test.ts runs the same
 * classes under workerd.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredCredentials } from "../../src/credentials/types.js";
import { callCoordinator, json } from "../../src/worker/coordinator-client.js";
import { accountStub, WorkerAccounts } from "../../src/worker/worker-accounts.js";
import { WorkerPools } from "../../src/worker/worker-pool.js";
import { ProxyError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logging.js";
import { startFakeOAuthServer, type FakeOAuthServer } from "../fake/oauth-server.js";
import { MemoryKv, MemoryNamespace } from "../helpers/worker-memory.js";

let oauth: FakeOAuthServer;
beforeAll(async () => {
  oauth = await startFakeOAuthServer({ email: "pool@example.com", plan: "pro" });
});
afterAll(() => oauth?.close());

function deployment() {
  const kv = new MemoryKv();
  const namespace = new MemoryNamespace({ CODEX_PROXY_KV: kv, CODEX_AUTH_ISSUER: oauth.issuer, LOG_LEVEL: "error" });
  /** A new isolate: its own members and trackers, the same KV and objects. */
  const isolate = () => new WorkerAccounts(kv, namespace, oauth.issuer);
  return { kv, namespace, isolate };
}

function expiring(inMs: number): StoredCredentials {
  const tokens = oauth.issueTokens();
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + inMs,
    accountId: "acct_fake_123",
    email: "pool@example.com",
    plan: "pro",
  };
}

async function pushTo(accounts: WorkerAccounts, name: string, credentials: StoredCredentials) {
  await accounts.storeFor(name).set(credentials);
  await accounts.added(name);
}

describe("Worker accounts", () => {
  it("keeps each account's chain in its own object: concurrent requests refresh each account once per expiry", async () => {
    const { kv, namespace, isolate } = deployment();
    const admin = isolate();
    const pushed = { default: expiring(5 * 60_000), work: expiring(5 * 60_000) };
    await pushTo(admin, "default", pushed.default);
    await pushTo(admin, "work", pushed.work);
    const before = { refreshes: oauth.refreshCount, reused: oauth.reusedCount };
    oauth.setRefreshDelay(100);
    const isolates = [isolate(), isolate()];
    const auths = await Promise.all(
      Array.from({ length: 20 }, (_, i) => isolates[i % 2]!.member(i < 10 ? "default" : "work").auth.getAuth()),
    ).finally(() => oauth.setRefreshDelay(0));
    const tokensOf = (from: number) => new Set(auths.slice(from, from + 10).map((auth) => auth.accessToken));
    expect(tokensOf(0).size).toBe(1);
    expect(tokensOf(10).size).toBe(1);
    expect(oauth.refreshCount - before.refreshes).toBe(2);
    expect(oauth.reusedCount - before.reused).toBe(0);
    const [defaultToken] = tokensOf(0);
    const [workToken] = tokensOf(10);
    expect(defaultToken).not.toBe(workToken);
    expect([defaultToken, workToken]).not.toContain(pushed.default.accessToken);
    expect([defaultToken, workToken]).not.toContain(pushed.work.accessToken);
    // The default account keeps the names it had before pools; the other one has its own.
    expect([...namespace.objects.keys()].sort()).toEqual(["account:work", "credentials"]);
    expect(JSON.parse(kv.values.get("codex_proxy_credentials")!).accessToken).toBe(defaultToken);
    expect(JSON.parse(kv.values.get("codex_proxy_credentials:work")!).accessToken).toBe(workToken);
    expect(JSON.parse(kv.values.get("codex_proxy_accounts")!)).toEqual({
      accounts: [{ name: "default" }, { name: "work" }],
    });
  });

  it("reads a Worker from before pools in place: its login becomes the default account, and a new account joins it", async () => {
    const { kv, namespace, isolate } = deployment();
    // What the previous version left: the chain in the "credentials" object and in KV; no registry, no usage.
    const old = expiring(5 * 3600_000);
    namespace.storage("credentials").values.set("credentials", old);
    await kv.put("codex_proxy_credentials", JSON.stringify(old));
    const accounts = isolate();
    expect(await accounts.registryFromKv()).toEqual([{ name: "default" }]);
    expect((await accounts.poolMembers()).map((member) => member.name)).toEqual(["default"]);
    expect((await accounts.member("default").auth.getAuth()).accessToken).toBe(old.accessToken);
    expect(await accounts.summaries()).toEqual([
      { name: "default", email: "pool@example.com", plan: "pro", expiresAt: old.expiresAt, state: "ready" },
    ]);

    await pushTo(accounts, "work", expiring(5 * 3600_000));
    expect((await accounts.summaries()).map((summary) => summary.name)).toEqual(["default", "work"]);
    expect((await isolate().poolMembers()).map((member) => member.name)).toEqual(["default", "work"]);
    expect((await accounts.member("default").store.get())!.refreshToken).toBe(old.refreshToken);
  });

  it("keeps the later reset of a cooldown, mirrors it to KV for other isolates, and leaves disabled accounts out", async () => {
    const { namespace, isolate } = deployment();
    const accounts = isolate();
    await pushTo(accounts, "default", expiring(5 * 3600_000));
    await pushTo(accounts, "work", expiring(5 * 3600_000));
    const later = Date.now() + 2 * 3600_000;
    await accounts.report("work", { state: "cooling_down", until: later, reason: "usage limit reached" });
    // A slower isolate reports an earlier reset, then a short backoff: neither shortens the cooldown.
    await accounts.report("work", { state: "cooling_down", until: Date.now() + 3600_000 });
    const usage = await accounts.report("work", { state: "backing_off", until: Date.now() + 30_000 });
    expect(usage).toMatchObject({ cooldownUntil: later, cooldownState: "cooling_down" });
    expect(await isolate().usageFromKv("work")).toMatchObject({ cooldownUntil: later });
    expect(await isolate().usageFromKv("default")).toEqual({});
    const [, work] = await accounts.summaries();
    expect(work).toMatchObject({ name: "work", state: "cooling_down", cooldownUntil: later });

    // Out of rotation until a new login is pushed; the plan's cooldown outlives the push.
    await accounts.report("work", { state: "no_codex", reason: "plan without Codex" });
    expect((await accounts.summaries())[1]).toMatchObject({ state: "no_codex", reason: "plan without Codex" });
    await pushTo(accounts, "work", expiring(5 * 3600_000));
    expect((await accounts.summaries())[1]).toMatchObject({ state: "cooling_down", cooldownUntil: later });

    const registry = await callCoordinator(
      accountStub(namespace, "default"),
      "/registry",
      json("POST", { name: "work", disabled: true }),
    );
    expect(registry).toEqual({ accounts: [{ name: "default" }, { name: "work", disabled: true }] });
    expect((await isolate().poolMembers()).map((member) => member.name)).toEqual(["default"]);
    expect((await accounts.summaries())[1]).toMatchObject({ name: "work", state: "disabled" });
  });

  it("shares a cooldown one isolate meets with the other isolates, through the account's object and its KV copy", async () => {
    const { isolate } = deployment();
    const admin = isolate();
    await pushTo(admin, "default", expiring(5 * 3600_000));
    await pushTo(admin, "work", expiring(5 * 3600_000));
    const [first, second] = [isolate(), isolate()];
    const firstPools = new WorkerPools(first, { strategy: "fill-first", logger: silentLogger });
    let clock = Date.now();
    const secondPools = new WorkerPools(second, { strategy: "fill-first", logger: silentLogger, now: () => clock });
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    const limited = new ProxyError(429, "usage limit", {
      type: "usage_limit_reached",
      code: "usage_limit_reached",
      extra: { resets_at: resetsAt },
    });
    // The second isolate has read everything once before the limit is met.
    expect(await (await secondPools.current()).run({}, async (member) => member.name)).toBe("default");

    const served = await (await firstPools.current()).run({}, async (member) => {
      if (member.name === "default") throw limited;
      return member.name;
    });
    expect(served).toBe("work");
    // The usage windows the first isolate saw for "work" go to its object too.
    first
      .member("work")
      .rateLimits.observe(
        new Headers({ "x-codex-primary-used-percent": "40", "x-codex-primary-window-minutes": "300" }),
        Date.now(),
      );
    await first.settled();
    expect((await admin.summaries())[0]).toMatchObject({ state: "cooling_down", cooldownUntil: resetsAt * 1000 });

    // Until it reads KV again the second isolate still tries the default account; then it skips it too.
    expect(await (await secondPools.current()).run({}, async (member) => member.name)).toBe("default");
    expect(second.member("work").rateLimits.snapshot).toBeUndefined();
    clock += 6_000;
    expect(await (await secondPools.current()).run({}, async (member) => member.name)).toBe("work");
    expect(second.member("work").rateLimits.snapshot?.windows).toEqual([{ usedPercent: 40, windowMinutes: 300 }]);
  });

  it("records a plan without Codex in the account's object, so the admin status says why, until a new push", async () => {
    const { isolate } = deployment();
    const admin = isolate();
    await pushTo(admin, "default", expiring(5 * 3600_000));
    await pushTo(admin, "work", expiring(5 * 3600_000));
    const serving = isolate();
    const pools = new WorkerPools(serving, { strategy: "fill-first", logger: silentLogger });
    const noCodex = new ProxyError(403, "no Codex", { type: "usage_not_included", code: "usage_not_included" });
    const served = await (await pools.current()).run({}, async (member) => {
      if (member.name === "default") throw noCodex;
      return member.name;
    });
    expect(served).toBe("work");
    await serving.settled();
    expect((await admin.summaries())[0]).toMatchObject({
      name: "default",
      state: "no_codex",
      reason: expect.stringMatching(/does not include Codex/),
    });
    await pushTo(admin, "default", expiring(5 * 3600_000));
    expect((await admin.summaries())[0]).toMatchObject({ name: "default", state: "ready" });
  });

  it("takes an account pushed through this isolate at once, for every request that arrives while it reads the list", async () => {
    const { isolate } = deployment();
    const accounts = isolate();
    await pushTo(accounts, "default", expiring(5 * 3600_000));
    const pools = new WorkerPools(accounts, { strategy: "fill-first", logger: silentLogger });
    expect((await pools.current()).members.map((member) => member.name)).toEqual(["default"]);
    await pushTo(accounts, "work", expiring(5 * 3600_000));
    const concurrent = await Promise.all(Array.from({ length: 3 }, () => pools.current()));
    for (const pool of concurrent) expect(pool.members.map((member) => member.name)).toEqual(["default", "work"]);
  });
});
