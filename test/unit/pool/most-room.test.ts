import { describe, expect, it } from "vitest";
import { mostRoom, roomLeft } from "../../../src/pool/strategies/most-room.js";
import type { Candidate } from "../../../src/pool/types.js";

const NOW = 1_800_000_000_000;
const inAnHour = NOW / 1000 + 3600;

function candidate(name: string, index: number, used: number[] | undefined, lastUsedAt?: number): Candidate {
  return {
    name,
    index,
    lastUsedAt,
    rateLimits: used && {
      observedAt: NOW,
      windows: used.map((usedPercent, i) => ({
        usedPercent,
        windowMinutes: i === 0 ? 300 : 10080,
        resetsAt: inAnHour,
      })),
    },
  };
}

describe("most-room strategy", () => {
  it("prefers the account with the most left in its tightest window", () => {
    const a = candidate("a", 0, [10, 90]); // weekly nearly spent: 10 left
    const b = candidate("b", 1, [60, 20]); // 40 left
    expect(mostRoom.pick([a, b], { now: NOW }).name).toBe("b");
  });

  it("counts unknown usage as full room, and a window that has reset as empty", () => {
    expect(roomLeft(candidate("a", 0, undefined), NOW)).toBe(100);
    const reset = candidate("b", 1, [95]);
    reset.rateLimits!.windows[0]!.resetsAt = NOW / 1000 - 1;
    expect(roomLeft(reset, NOW)).toBe(100);
    expect(mostRoom.pick([candidate("c", 0, [50]), candidate("d", 1, undefined)], { now: NOW }).name).toBe("d");
  });

  it("breaks ties by the account used least recently, then by pool order", () => {
    const a = candidate("a", 0, [30], NOW - 1000);
    const b = candidate("b", 1, [30], NOW - 5000);
    expect(mostRoom.pick([a, b], { now: NOW }).name).toBe("b");
    expect(mostRoom.pick([candidate("x", 0, [30]), candidate("y", 1, [30])], { now: NOW }).name).toBe("x");
  });
});
