/**
 * One account's cooldown and usage windows as its Durable Object keeps them,
 * and the one rule for changing them: a reported cooldown never shortens one
 * that is already running (the later reset wins), and a new login (a push)
 * brings an account that was out of rotation back.
 */
import type { RateLimitSnapshot } from "../codex/rate-limits.js";
import type { StoredCredentials } from "../credentials/types.js";
import type { AccountSummary } from "../pool/types.js";

type CooldownState = "cooling_down" | "backing_off";
type OutOfRotationState = "no_codex" | "needs_login";

export interface AccountUsage {
  /** Epoch ms when the running cooldown or backoff ends. */
  cooldownUntil?: number;
  cooldownState?: CooldownState;
  cooldownReason?: string;
  /** Set when the account cannot serve until a new login is pushed. */
  outOfRotation?: OutOfRotationState;
  outOfRotationReason?: string;
  rateLimits?: RateLimitSnapshot;
}

/** What an isolate tells an account's object: a cooldown, an end of rotation, or only the windows it saw. */
export interface UsageReport {
  state?: CooldownState | OutOfRotationState;
  /** Epoch ms; required for a cooldown or backoff. */
  until?: number;
  /** In words, never a token. */
  reason?: string;
  rateLimits?: RateLimitSnapshot;
}

export function isUsageReport(value: unknown): value is UsageReport {
  if (!value || typeof value !== "object") return false;
  const report = value as Record<string, unknown>;
  const cooling = report.state === "cooling_down" || report.state === "backing_off";
  const out = report.state === "no_codex" || report.state === "needs_login";
  if (report.state !== undefined && !cooling && !out) return false;
  if (report.state === undefined && !isSnapshot(report.rateLimits)) return false;
  if (report.rateLimits !== undefined && !isSnapshot(report.rateLimits)) return false;
  if (cooling && (typeof report.until !== "number" || !Number.isFinite(report.until))) return false;
  return report.reason === undefined || typeof report.reason === "string";
}

function isSnapshot(value: unknown): value is RateLimitSnapshot {
  const snapshot = value as RateLimitSnapshot | undefined;
  return Array.isArray(snapshot?.windows) && typeof snapshot?.observedAt === "number";
}

export function applyReport(current: AccountUsage, report: UsageReport, now: number): AccountUsage {
  const next: AccountUsage = { ...current };
  if (report.rateLimits && (!current.rateLimits || report.rateLimits.observedAt >= current.rateLimits.observedAt))
    next.rateLimits = report.rateLimits;
  if (report.state === undefined) return next;
  if (report.state === "no_codex" || report.state === "needs_login") {
    next.outOfRotation = report.state;
    next.outOfRotationReason = report.reason;
    return next;
  }
  const running = current.cooldownUntil !== undefined && current.cooldownUntil > now;
  // Never shorten: an earlier reset reported late (or by a slower isolate) leaves the running one alone.
  if (running && current.cooldownUntil! >= report.until!) return next;
  next.cooldownUntil = report.until;
  next.cooldownState = report.state;
  next.cooldownReason = report.reason;
  return next;
}

/** A new login for the account: whatever took it out of rotation is over; a plan's cooldown is not. */
export function afterNewLogin(current: AccountUsage): AccountUsage {
  const { outOfRotation: _state, outOfRotationReason: _reason, ...rest } = current;
  return rest;
}

/** The read-only view of one account (no token), as the admin status lists it. */
export function summariseAccount(
  name: string,
  credentials: StoredCredentials | undefined,
  usage: AccountUsage,
  disabled: boolean,
  now: number,
): AccountSummary {
  const summary: AccountSummary = { name, state: "ready" };
  if (credentials?.email) summary.email = credentials.email;
  if (credentials?.plan) summary.plan = credentials.plan;
  if (credentials) summary.expiresAt = credentials.expiresAt;
  if (usage.rateLimits) summary.rateLimits = usage.rateLimits;
  const cooling = usage.cooldownUntil !== undefined && usage.cooldownUntil > now;
  if (cooling) summary.cooldownUntil = usage.cooldownUntil;
  if (disabled) {
    summary.state = "disabled";
    summary.reason = "disabled";
  } else if (!credentials) {
    summary.state = "needs_login";
    summary.reason = "no credentials pushed";
  } else if (credentials.lastRefreshErrorTerminal) {
    summary.state = "needs_login";
    summary.reason = credentials.lastRefreshError ?? "the refresh chain is dead";
  } else if (usage.outOfRotation) {
    summary.state = usage.outOfRotation;
    summary.reason = usage.outOfRotationReason ?? usage.outOfRotation;
  } else if (cooling) {
    summary.state = usage.cooldownState ?? "cooling_down";
    if (usage.cooldownReason) summary.reason = usage.cooldownReason;
  }
  return summary;
}
