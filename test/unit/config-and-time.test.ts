import { describe, expect, it } from "vitest";
import { ConfigError, loadCheckedConfig, readConfig } from "../../src/core/config.js";
import { describeNetworkError } from "../../src/core/errors.js";
import { formatDuration, parseEpochMs } from "../../src/core/time.js";

describe("formatDuration", () => {
  it("states a duration in a unit that does not round it away", () => {
    expect(formatDuration(1500)).toBe("1.5 s");
    expect(formatDuration(2000)).toBe("2 s");
    expect(formatDuration(250)).toBe("250 ms");
    expect(formatDuration(300_000)).toBe("5 min");
    expect(formatDuration(90_000)).toBe("1 min 30 s");
    expect(formatDuration(5_400_000)).toBe("1 h 30 min");
  });
});

describe("parseEpochMs", () => {
  it("reads milliseconds, seconds (below 1e12) and ISO dates, and explains anything else", () => {
    expect(parseEpochMs("1767225600000")).toEqual({ ms: 1_767_225_600_000 });
    expect(parseEpochMs("1767225600")).toEqual({ ms: 1_767_225_600_000 });
    expect(parseEpochMs("2026-01-01T00:00:00Z")).toEqual({ ms: 1_767_225_600_000 });
    expect(parseEpochMs("0")).toMatchObject({ problem: expect.stringMatching(/after 1970/) });
    expect(parseEpochMs("next week")).toMatchObject({ problem: expect.stringMatching(/is not a time/) });
  });
});

describe("readConfig", () => {
  it("takes blank PORT and HOST as the defaults", () => {
    const { config, problems } = readConfig({ PORT: "", HOST: "  " });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ port: 8080, host: "127.0.0.1" });
  });

  it("reads good values", () => {
    const { config, problems } = readConfig({
      PORT: "9000",
      MAX_BODY_MB: "1.5",
      REASONING_OUTPUT: "Think-Tags",
      LOG_LEVEL: "WARN",
      UPSTREAM_CONNECT_TIMEOUT_MS: "1500",
      CORS_ORIGINS: "https://app.example.com, *",
      EXPIRES_AT: "1767225600",
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      port: 9000,
      maxBodyBytes: 1.5 * 1024 * 1024,
      reasoningOutput: "think-tags",
      logLevel: "warn",
      connectTimeoutMs: 1500,
      corsOrigins: ["https://app.example.com", "*"],
    });
  });

  it("lists every bad value, keeping the defaults in the lenient config", () => {
    const env = {
      PORT: "70000",
      HOST: "http://localhost",
      MAX_BODY_MB: "big",
      REASONING_OUTPUT: "loud",
      LOG_LEVEL: "trace",
      UPSTREAM_IDLE_TIMEOUT_MS: "5 minutes",
      CODEX_BASE_URL: "chatgpt.com",
      CORS_ORIGINS: "app.example.com",
      CODEX_CLIENT_VERSION: "latest",
      EXPIRES_AT: "soon",
    };
    const { config, problems } = readConfig(env);
    expect(problems.map((p) => p.variable).sort()).toEqual(Object.keys(env).sort());
    expect(config).toMatchObject({ maxBodyBytes: 32 * 1024 * 1024, logLevel: "info", port: 8080 });
    expect(() => loadCheckedConfig(env)).toThrow(ConfigError);
    // A command that uses only some variables is checked on those alone.
    expect(() => loadCheckedConfig(env, ["CODEX_AUTH_ISSUER"])).not.toThrow();
  });

  it("does not judge ENV, which is also a shell variable", () => {
    expect(readConfig({ ENV: "/home/me/.shrc" }).problems).toEqual([]);
  });
});

describe("describeNetworkError", () => {
  it("names the system error, a timeout, or the reason, never a bare TypeError", () => {
    const refused = Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
    });
    expect(describeNetworkError(refused)).toBe("ECONNREFUSED");
    const both = Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new AggregateError([Object.assign(new Error("x"), { code: "ENETUNREACH" })]), {}),
    });
    expect(describeNetworkError(both)).toBe("ENETUNREACH");
    expect(describeNetworkError(new DOMException("timed out", "TimeoutError"))).toBe("timed out");
    expect(describeNetworkError(Object.assign(new TypeError("fetch failed"), { cause: new Error("bad port") }))).toBe(
      "bad port",
    );
    expect(describeNetworkError(new TypeError("fetch failed"))).toBe("network error");
  });
});
