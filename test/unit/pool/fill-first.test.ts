import { describe, expect, it } from "vitest";
import { fillFirst } from "../../../src/pool/strategies/fill-first.js";
import type { Candidate } from "../../../src/pool/types.js";

const NOW = 1_800_000_000_000;

describe("fill-first strategy", () => {
  it("takes the first ready account in pool order, whatever its usage or the last choice", () => {
    const busy: Candidate = {
      name: "a",
      index: 0,
      lastUsedAt: NOW,
      rateLimits: { observedAt: NOW, windows: [{ usedPercent: 99, windowMinutes: 300 }] },
    };
    const idle: Candidate = { name: "b", index: 1 };
    expect(fillFirst.pick([idle, busy], { now: NOW, lastPickedIndex: 0 }).name).toBe("a");
    expect(fillFirst.pick([idle], { now: NOW, lastPickedIndex: 0 }).name).toBe("b");
  });
});
