/**
 * The `x-codex-*` rate-limit headers the backend sends on every answer
 * (docs/protocol.md §7.4), remembered so that `status`, `GET /v1/usage` and
 * the Codex usage endpoints can show how much of each window is used.
 *
 * Windows are identified by their length (`*-window-minutes`), never by the
 * primary/secondary slot they came in: the backend dropped its 5-hour window
 * for months, and the weekly one then arrived in the primary slot (§11).
 */

export interface RateLimitWindow {
  usedPercent: number;
  windowMinutes?: number;
  /** Epoch seconds. */
  resetsAt?: number;
}

interface RateLimitCredits {
  hasCredits: boolean;
  unlimited: boolean;
  balance?: string;
}

export interface RateLimitSnapshot {
  /** Every window the headers carried, shortest first (unknown lengths last). */
  windows: RateLimitWindow[];
  credits?: RateLimitCredits;
  activeLimit?: string;
  /** Epoch ms when the headers were seen. */
  observedAt: number;
}

/** A snapshot persisted by an older version: windows by slot. */
interface LegacySnapshot {
  primary?: RateLimitWindow;
  secondary?: RateLimitWindow;
}

const FIVE_HOURS = 300;
const ONE_WEEK = 10_080;

/** "5-hour", "weekly", else the length in the largest whole unit ("30-day", "90-minute"). */
export function windowLabel(minutes: number | undefined): string {
  if (minutes === undefined || minutes <= 0) return "window of unknown length";
  if (minutes === FIVE_HOURS) return "5-hour";
  if (minutes === ONE_WEEK) return "weekly";
  if (minutes % 1440 === 0) return `${minutes / 1440}-day`;
  if (minutes % 60 === 0) return `${minutes / 60}-hour`;
  return `${minutes}-minute`;
}

function num(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === "") return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

function readWindow(headers: Headers, prefix: string, nowMs: number): RateLimitWindow | undefined {
  const usedPercent = num(headers, `${prefix}-used-percent`);
  const windowMinutes = num(headers, `${prefix}-window-minutes`);
  let resetsAt = num(headers, `${prefix}-reset-at`);
  const resetAfter = num(headers, `${prefix}-reset-after-seconds`);
  if (resetsAt === undefined && resetAfter !== undefined) resetsAt = Math.floor(nowMs / 1000) + resetAfter;
  // A window is present only if something in it is non-zero (docs/protocol.md §7.4).
  if (!usedPercent && !windowMinutes && resetsAt === undefined) return undefined;
  return { usedPercent: usedPercent ?? 0, windowMinutes: windowMinutes || undefined, resetsAt };
}

const byLength = (a: RateLimitWindow, b: RateLimitWindow): number =>
  (a.windowMinutes ?? Number.POSITIVE_INFINITY) - (b.windowMinutes ?? Number.POSITIVE_INFINITY);

function readCredits(headers: Headers): RateLimitCredits | undefined {
  const has = headers.get("x-codex-credits-has-credits");
  const unlimited = headers.get("x-codex-credits-unlimited");
  if (has === null && unlimited === null) return undefined;
  const balance = headers.get("x-codex-credits-balance")?.trim();
  return { hasCredits: has === "true", unlimited: unlimited === "true", ...(balance ? { balance } : {}) };
}

export function readRateLimits(headers: Headers, nowMs: number): RateLimitSnapshot | undefined {
  const windows = [readWindow(headers, "x-codex-primary", nowMs), readWindow(headers, "x-codex-secondary", nowMs)]
    .filter((w): w is RateLimitWindow => w !== undefined)
    .sort(byLength);
  if (windows.length === 0) return undefined;
  const credits = readCredits(headers);
  return {
    windows,
    ...(credits ? { credits } : {}),
    activeLimit: headers.get("x-codex-active-limit") ?? undefined,
    observedAt: nowMs,
  };
}

/** The windows of a snapshot, including one persisted in the older by-slot shape. */
export function windowsOf(snapshot: RateLimitSnapshot | LegacySnapshot | undefined): RateLimitWindow[] {
  if (!snapshot) return [];
  if ("windows" in snapshot && Array.isArray(snapshot.windows)) return snapshot.windows;
  const legacy = snapshot as LegacySnapshot;
  return [legacy.primary, legacy.secondary].filter((w): w is RateLimitWindow => w !== undefined).sort(byLength);
}

/** Windows used up (100% or more) that have not reset yet. */
export function exhaustedWindows(windows: readonly RateLimitWindow[], nowMs: number): RateLimitWindow[] {
  return windows.filter((w) => w.usedPercent >= 100 && (w.resetsAt === undefined || w.resetsAt * 1000 > nowMs));
}

/** Holds the last snapshot; `onUpdate` lets the Node entry persist it for `status`. */
export class RateLimitTracker {
  private latest: RateLimitSnapshot | undefined;

  constructor(private readonly onUpdate?: (snapshot: RateLimitSnapshot) => void) {}

  observe(headers: Headers, nowMs: number): void {
    const snapshot = readRateLimits(headers, nowMs);
    if (!snapshot) return;
    this.latest = snapshot;
    this.onUpdate?.(snapshot);
  }

  /** Puts back a snapshot saved earlier (at start), without reporting it as new. */
  restore(snapshot: RateLimitSnapshot): void {
    if (!this.latest || this.latest.observedAt < snapshot.observedAt) this.latest = snapshot;
  }

  get snapshot(): RateLimitSnapshot | undefined {
    return this.latest;
  }
}
