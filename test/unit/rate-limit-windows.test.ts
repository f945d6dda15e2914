/** Windows are named by their length, never by the header slot they came in (docs/protocol.md §11). */
import { describe, expect, it } from "vitest";
import { readRateLimits, windowLabel, windowsOf } from "../../src/codex/rate-limits.js";
import { renderStatus } from "../../src/cli/format.js";
import { upstreamHttpError } from "../../src/codex/upstream-errors.js";

const now = Date.UTC(2026, 11, 1, 12);
const nowSec = now / 1000;
const status = {
  hasCredentials: true,
  isExpired: false,
  needsRefreshSoon: false,
  expiresAt: now + 86_400_000,
  userID: "user_1",
} as Parameters<typeof renderStatus>[0];

describe("rate-limit windows", () => {
  it("labels windows by minutes", () => {
    expect([300, 10080, 43200, 120, 90, undefined].map(windowLabel)).toEqual([
      "5-hour",
      "weekly",
      "30-day",
      "2-hour",
      "90-minute",
      "window of unknown length",
    ]);
  });

  it("reads the weekly window from the primary slot as weekly, and `status` says so", () => {
    const headers = new Headers({
      "x-codex-primary-used-percent": "55",
      "x-codex-primary-window-minutes": "10080",
      "x-codex-primary-reset-at": String(nowSec + 3600),
    });
    const snapshot = readRateLimits(headers, now)!;
    expect(snapshot.windows).toEqual([{ usedPercent: 55, windowMinutes: 10080, resetsAt: nowSec + 3600 }]);
    const text = renderStatus(status, now, { source: "test", rateLimits: snapshot });
    expect(text).toMatch(/weekly window: 55% used/);
    expect(text).not.toMatch(/5-hour/);
  });

  it("orders windows shortest first whichever slot they came in, and reads a snapshot stored by slot", () => {
    const headers = new Headers({
      "x-codex-primary-used-percent": "40",
      "x-codex-primary-window-minutes": "10080",
      "x-codex-secondary-used-percent": "10",
      "x-codex-secondary-window-minutes": "300",
    });
    expect(readRateLimits(headers, now)!.windows.map((w) => w.windowMinutes)).toEqual([300, 10080]);
    const legacy = { primary: { usedPercent: 1, windowMinutes: 10080 }, observedAt: now };
    expect(windowsOf(legacy as never)).toEqual([{ usedPercent: 1, windowMinutes: 10080 }]);
  });

  it("names the used-up window in the 429 message: from the body, else from the headers", () => {
    const body = (extra: Record<string, unknown>) =>
      JSON.stringify({ error: { type: "usage_limit_reached", resets_in_seconds: 60, ...extra } });
    expect(upstreamHttpError(429, body({ limit_window_minutes: 300 }), new Headers(), now).message).toMatch(
      /\(5-hour window used up\)/,
    );
    const headers = new Headers({
      "x-codex-primary-used-percent": "100",
      "x-codex-primary-window-minutes": "10080",
      "x-codex-primary-reset-at": String(nowSec + 600),
    });
    expect(upstreamHttpError(429, body({}), headers, now).message).toMatch(/\(weekly window used up\)/);
  });
});
