/**
 * The backend's usage answer (`GET /api/codex/usage`, `/backend-api/wham/usage`;
 * docs/protocol.md §11), rebuilt from the windows the proxy last saw in the
 * rate-limit headers. Codex clients from 0.154 read it and block new input
 * when it says a limit is reached. Pure.
 */
import { exhaustedWindows, type RateLimitSnapshot, type RateLimitWindow } from "./rate-limits.js";

/** The plan names the clients' decoder accepts; anything else would fail to parse there. */
const PLAN_TYPES = new Set([
  "guest",
  "free",
  "go",
  "plus",
  "pro",
  "free_workspace",
  "team",
  "business",
  "education",
  "quorum",
  "k12",
  "enterprise",
  "edu",
]);

interface UsageWindowPayload {
  used_percent: number;
  limit_window_seconds: number;
  reset_after_seconds: number;
  reset_at: number;
}

export interface UsagePayload {
  plan_type: string;
  rate_limit: {
    allowed: boolean;
    limit_reached: boolean;
    primary_window?: UsageWindowPayload;
    secondary_window?: UsageWindowPayload;
  };
  credits: { has_credits: boolean; unlimited: boolean; balance: string | null } | null;
}

/** All four fields are integers in the backend's schema; a fraction would not parse in the clients. */
function windowPayload(window: RateLimitWindow, nowMs: number): UsageWindowPayload {
  const nowSec = Math.floor(nowMs / 1000);
  const resetAt = Math.round(window.resetsAt ?? nowSec);
  return {
    used_percent: Math.round(window.usedPercent),
    limit_window_seconds: Math.round((window.windowMinutes ?? 0) * 60),
    reset_after_seconds: Math.max(0, resetAt - nowSec),
    reset_at: resetAt,
  };
}

/**
 * The windows are placed by length, shortest in the primary slot, as the
 * backend does: with the 5-hour window gone the weekly one is primary.
 * `plan` comes from the access token; an unknown plan is reported as `plus`,
 * the most common plan with Codex, rather than a value clients cannot read.
 */
export function usagePayload(
  snapshot: RateLimitSnapshot | undefined,
  plan: string | undefined,
  nowMs: number,
): UsagePayload {
  const windows = snapshot?.windows ?? [];
  const limitReached = exhaustedWindows(windows, nowMs).length > 0;
  const [primary, secondary] = windows;
  const credits = snapshot?.credits;
  return {
    plan_type: plan && PLAN_TYPES.has(plan) ? plan : "plus",
    rate_limit: {
      allowed: !limitReached,
      limit_reached: limitReached,
      ...(primary ? { primary_window: windowPayload(primary, nowMs) } : {}),
      ...(secondary ? { secondary_window: windowPayload(secondary, nowMs) } : {}),
    },
    credits: credits
      ? { has_credits: credits.hasCredits, unlimited: credits.unlimited, balance: credits.balance ?? null }
      : null,
  };
}
