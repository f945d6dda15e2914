/**
 * The default strategy: the account with the most room left in its tightest
 * window, so that every plan is drawn down evenly and none hits its limit
 * long before the others. An account whose usage is unknown counts as having
 * full room; ties go to the account used least recently.
 */
import { windowsOf } from "../../codex/rate-limits.js";
import type { Candidate, Strategy } from "../types.js";

/** Percent left in the fullest window that has not reset yet (100 when nothing is known). */
export function roomLeft(candidate: Candidate, now: number): number {
  let used = 0;
  for (const window of windowsOf(candidate.rateLimits)) {
    const stillRunning = window.resetsAt === undefined || window.resetsAt * 1000 > now;
    if (stillRunning) used = Math.max(used, window.usedPercent);
  }
  return Math.max(0, 100 - used);
}

export const mostRoom: Strategy = {
  name: "most-room",
  pick(candidates, { now }) {
    let best = candidates[0]!;
    for (const candidate of candidates.slice(1)) {
      const room = roomLeft(candidate, now);
      const bestRoom = roomLeft(best, now);
      const lessRecent = (candidate.lastUsedAt ?? -1) < (best.lastUsedAt ?? -1);
      if (room > bestRoom || (room === bestRoom && lessRecent)) best = candidate;
    }
    return best;
  },
};
