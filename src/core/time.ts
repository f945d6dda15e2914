/** Times and durations as users write them and read them. */

function plural(n: number, unit: string): string {
  return `${n} ${unit}`;
}

/** A duration in the unit that states it exactly enough: 1500 ms is "1.5 s", not "2 s"; 300000 ms is "5 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "an unknown time";
  if (ms < 1000) return plural(Math.round(ms), "ms");
  if (ms < 60_000) return plural(Math.round(ms / 100) / 10, "s");
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const minutes = Math.floor(totalSeconds / 60);
    const seconds = totalSeconds % 60;
    return seconds ? `${plural(minutes, "min")} ${plural(seconds, "s")}` : plural(minutes, "min");
  }
  const totalMinutes = Math.round(totalSeconds / 60);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return minutes ? `${plural(hours, "h")} ${plural(minutes, "min")}` : plural(hours, "h");
}

/** Below this, an epoch number is taken to be in seconds: 1e12 ms is September 2001, 1e12 s is the year 33658. */
const SECONDS_BELOW = 1e12;

/**
 * Reads an expiry given by a user: epoch milliseconds, epoch seconds (as JWTs
 * and most tools write it; converted), or an ISO 8601 date. Returns the time
 * in epoch ms, or why the value is not one.
 */
export function parseEpochMs(raw: string): { ms: number } | { problem: string } {
  const text = raw.trim();
  const asNumber = Number(text);
  if (text && Number.isFinite(asNumber)) {
    if (asNumber <= 0) return { problem: `"${text}" is not a time after 1970` };
    return { ms: Math.round(asNumber < SECONDS_BELOW ? asNumber * 1000 : asNumber) };
  }
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isFinite(parsed)) return { ms: parsed };
  return {
    problem: `"${text}" is not a time: give epoch milliseconds (1767225600000), epoch seconds (1767225600) or an ISO date (2026-01-01T00:00:00Z)`,
  };
}
