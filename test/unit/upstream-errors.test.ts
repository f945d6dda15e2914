import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { inStreamFailure, upstreamHttpError } from "../../src/codex/upstream-errors.js";

const fixtures = new URL("../fixtures/", import.meta.url);
const now = 1787650000 * 1000;

describe("upstreamHttpError", () => {
  it("maps usage_limit_reached to a 429 with Retry-After and the reset time", () => {
    const body = readFileSync(new URL("usage-limit-429.json", fixtures), "utf8");
    const error = upstreamHttpError(429, body, new Headers({ "content-type": "application/json" }), now);
    expect(error.status).toBe(429);
    expect(error.code).toBe("usage_limit_reached");
    expect(error.headers["retry-after"]).toBe(String(1787668200 - 1787650000));
    expect(error.message).toContain("plus");
    expect(error.message).toContain(new Date(1787668200 * 1000).toISOString());
    expect(error.toBody().error.resets_at).toBe(1787668200);
  });

  it("falls back to resets_in_seconds when resets_at is in the past", () => {
    const error = upstreamHttpError(
      429,
      JSON.stringify({ error: { type: "usage_limit_reached", resets_at: 1, resets_in_seconds: 90 } }),
      new Headers(),
      now,
    );
    expect(error.headers["retry-after"]).toBe("90");
  });

  it("names Cloudflare for the HTML challenge", () => {
    const error = upstreamHttpError(
      403,
      "<!DOCTYPE html><html><title>Just a moment...</title></html>",
      new Headers({ "content-type": "text/html" }),
      now,
    );
    expect(error.status).toBe(502);
    expect(error.code).toBe("cloudflare_challenge");
    expect(error.message).toMatch(/Cloudflare/);
  });

  it("explains a plan without Codex", () => {
    const error = upstreamHttpError(429, JSON.stringify({ error: { type: "usage_not_included" } }), new Headers(), now);
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/plan does not include Codex/);
  });

  it("passes the backend's own explanation for a 400", () => {
    const error = upstreamHttpError(400, JSON.stringify({ detail: "Instructions are required" }), new Headers(), now);
    expect(error.status).toBe(400);
    expect(error.message).toContain("Instructions are required");
  });

  it("turns a 401 into advice to log in again", () => {
    expect(upstreamHttpError(401, "{}", new Headers(), now).message).toContain("codex-proxy login");
  });

  it("maps 5xx to 502", () => {
    expect(
      upstreamHttpError(503, JSON.stringify({ error: { code: "server_is_overloaded" } }), new Headers(), now).status,
    ).toBe(502);
  });
});

describe("inStreamFailure", () => {
  it("maps context_length_exceeded to a 400", () => {
    const error = inStreamFailure({
      type: "response.failed",
      response: {
        error: { code: "context_length_exceeded", message: "Your input exceeds the context window of this model." },
      },
    });
    expect(error.status).toBe(400);
    expect(error.code).toBe("context_length_exceeded");
  });

  it("maps a throttle error event to a 429 and other failures to 502", () => {
    expect(
      inStreamFailure({
        type: "error",
        code: "rate_limit_exceeded",
        message: "Rate limit reached. Please try again in 2.4s.",
      }).status,
    ).toBe(429);
    const other = inStreamFailure({
      type: "response.failed",
      response: { error: { code: "server_error", message: "boom" } },
    });
    expect(other.status).toBe(502);
    expect(other.message).toContain("boom");
  });
});
