/**
 * The Worker as a user sets it up, each in wrangler processes of its own (so
 * this file runs beside worker.test.ts): `npm run worker:dev` without
 * ADMIN_API_KEY fails closed, and `wrangler deploy --dry-run` bundles it.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { runCliInProcess, tempHome } from "../helpers/cli.js";
import { QUIET_WRANGLER_ENV, ROOT, startLocalWorker, WRANGLER } from "../helpers/worker.js";

let backend: FakeCodexBackend;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
});
afterAll(async () => {
  await backend?.close();
});

describe("a Worker without ADMIN_API_KEY, started with `npm run worker:dev -- …`", () => {
  it("fails closed: /admin/* and /v1/* answer 503, and the CLI says why", async () => {
    const bare = await startLocalWorker({ CODEX_BASE_URL: backend.url }, { viaNpmScript: true });
    try {
      const admin = await fetch(`${bare.url}/admin/credentials/status`, {
        headers: { authorization: "Bearer anything" },
      });
      expect(admin.status).toBe(503);
      expect((await admin.json()).error.message).toMatch(/admin API not configured/);
      const v1 = await fetch(`${bare.url}/v1/models`);
      expect(v1.status).toBe(503);
      expect((await v1.json()).error.message).toMatch(/ADMIN_API_KEY.*wrangler secret put/);
      const status = await runCliInProcess(["status", "--worker-url", bare.url, "--admin-key", "anything"], {
        CODEX_PROXY_HOME: tempHome(),
      });
      expect(status.code).toBe(1);
      expect(status.stderr).toMatch(/admin API not configured/);
    } finally {
      await bare.stop();
    }
  }, 60_000);
});

describe("wrangler deploy --dry-run", () => {
  it("bundles the Worker without a login", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [WRANGLER, "deploy", "--dry-run", "--outdir", tempHome("worker-bundle-")],
      {
        cwd: ROOT,
        env: { ...process.env, ...QUIET_WRANGLER_ENV, CI: "true" },
      },
    );
    expect(stdout).toMatch(/--dry-run: exiting now/);
    expect(stdout).toMatch(/REFRESH_COORDINATOR/);
    expect(stdout).toMatch(/CODEX_PROXY_KV/);
  }, 60_000);
});
