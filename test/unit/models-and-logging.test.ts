import { describe, expect, it } from "vitest";
import { FALLBACK_MODELS, parseCatalogueEntry, resolveModel } from "../../src/codex/models.js";
import { createLogger, redactSecrets } from "../../src/core/logging.js";
import { constantTimeEqual, presentedKey } from "../../src/server/api-keys.js";
import { VERSION } from "../../src/core/version.js";
import { readFileSync } from "node:fs";

describe("resolveModel", () => {
  it("resolves slugs, aliases, -latest and effort suffixes", () => {
    expect(resolveModel(undefined, FALLBACK_MODELS, "gpt-5.5")).toMatchObject({ slug: "gpt-5.5" });
    expect(resolveModel("GPT-5.5", FALLBACK_MODELS, "x").slug).toBe("gpt-5.5");
    expect(resolveModel("gpt-5.5-latest", FALLBACK_MODELS, "x").slug).toBe("gpt-5.5");
    expect(resolveModel("gpt-5.4-mini-high", FALLBACK_MODELS, "x")).toMatchObject({
      slug: "gpt-5.4-mini",
      effort: "high",
    });
    expect(resolveModel("gpt-5.5:xhigh", FALLBACK_MODELS, "x")).toMatchObject({ slug: "gpt-5.5", effort: "xhigh" });
    expect(resolveModel("unknown-model", FALLBACK_MODELS, "x")).toEqual({ slug: "unknown-model" });
  });

  it("parses catalogue entries", () => {
    const model = parseCatalogueEntry({
      slug: "m",
      visibility: "hide",
      priority: 3,
      supported_reasoning_levels: [{ effort: "low" }, { effort: "max" }],
      input_modalities: ["text"],
    });
    expect(model).toMatchObject({
      slug: "m",
      visibility: "hide",
      priority: 3,
      reasoningEfforts: ["low", "max"],
      inputModalities: ["text"],
    });
    expect(parseCatalogueEntry({ visibility: "list" })).toBeUndefined();
  });
});

describe("logging", () => {
  it("redacts JWTs, bearer values and configured secrets", () => {
    const jwt = "eyJhbGciOiJub25lIn0.eyJleHAiOjE3ODc2NTAwMDB9.c2lnbmF0dXJl";
    expect(redactSecrets(`token ${jwt} here`)).not.toContain(jwt);
    expect(redactSecrets("Authorization: Bearer abc.def-ghi")).toBe("Authorization: Bearer [redacted]");
    expect(redactSecrets("key=my-proxy-key-123", ["my-proxy-key-123"])).toBe("key=[redacted]");
  });

  it("writes one JSON object a line in production", () => {
    const lines: string[] = [];
    const logger = createLogger({ production: true, level: "info", write: (l) => lines.push(l) });
    logger.debug("hidden");
    logger.info("request", { method: "POST", status: 200 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", msg: "request", method: "POST", status: 200 });
  });
});

describe("api keys", () => {
  it("compares in constant time and reads Bearer or X-API-Key", async () => {
    expect(await constantTimeEqual("a", "a")).toBe(true);
    expect(await constantTimeEqual("a", "b")).toBe(false);
    expect(presentedKey(new Headers({ authorization: "Bearer k1" }))).toBe("k1");
    expect(presentedKey(new Headers({ "x-api-key": "k2" }))).toBe("k2");
    expect(presentedKey(new Headers({ authorization: "Basic xyz", "x-api-key": "k2" }))).toBeUndefined();
  });
});

describe("version", () => {
  it("matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(VERSION).toBe(pkg.version);
  });
});
