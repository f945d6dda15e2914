import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Timeouts only catch a hang: no test asserts how long something took. Generous, because a test
    // that starts wrangler or the CLI can take tens of seconds on a shared two-core machine under load.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests bind real ports on 127.0.0.1; forks keep each file's servers isolated.
    pool: "forks",
    // Each fork imports the sources once for all the files it runs, instead of once per file: the
    // suite is CPU-bound on two cores, and re-importing cost about 25 s of it. Files keep no state
    // in shared modules that another file could see (each starts its own fakes and servers).
    isolate: false,
    // Most of the suite waits on sockets and child processes rather than the CPU: four files at a time
    // on a two-core machine (vitest's default there is one). No test depends on timing, so a busy
    // machine makes the suite slower, not red.
    maxWorkers: 4,
    env: {
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
    },
  },
});
