/**
 * The `x-codex-*` rate-limit headers the backend sends on every answer
 * (docs/protocol.md §7.4), remembered so that `status` and `GET /v1/usage` can show
 * how much of the 5-hour and weekly windows is used.
 */

interface RateLimitWindow {
  usedPercent: number;
  windowMinutes?: number;
  /** Epoch seconds. */
  resetsAt?: number;
}

export interface RateLimitSnapshot {
  primary?: RateLimitWindow;
  secondary?: RateLimitWindow;
  activeLimit?: string;
  /** Epoch ms when the headers were seen. */
  observedAt: number;
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
  return { usedPercent: usedPercent ?? 0, windowMinutes, resetsAt };
}

function readRateLimits(headers: Headers, nowMs: number): RateLimitSnapshot | undefined {
  const primary = readWindow(headers, "x-codex-primary", nowMs);
  const secondary = readWindow(headers, "x-codex-secondary", nowMs);
  if (!primary && !secondary) return undefined;
  return { primary, secondary, activeLimit: headers.get("x-codex-active-limit") ?? undefined, observedAt: nowMs };
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

  get snapshot(): RateLimitSnapshot | undefined {
    return this.latest;
  }
}
