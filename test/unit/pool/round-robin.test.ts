import { describe, expect, it } from "vitest";
import { roundRobin } from "../../../src/pool/strategies/round-robin.js";
import type { Candidate } from "../../../src/pool/types.js";

const c = (name: string, index: number): Candidate => ({ name, index });
const NOW = 1_800_000_000_000;

describe("round-robin strategy", () => {
  it("starts with the first account, then takes the next after the last one chosen, wrapping around", () => {
    const all = [c("a", 0), c("b", 1), c("c", 2)];
    expect(roundRobin.pick(all, { now: NOW }).name).toBe("a");
    expect(roundRobin.pick(all, { now: NOW, lastPickedIndex: 0 }).name).toBe("b");
    expect(roundRobin.pick(all, { now: NOW, lastPickedIndex: 1 }).name).toBe("c");
    expect(roundRobin.pick(all, { now: NOW, lastPickedIndex: 2 }).name).toBe("a");
  });

  it("skips accounts that are not ready (not among the candidates)", () => {
    expect(roundRobin.pick([c("a", 0), c("c", 2)], { now: NOW, lastPickedIndex: 0 }).name).toBe("c");
    // The last one chosen is cooling now: the next after its position still comes next.
    expect(roundRobin.pick([c("a", 0), c("c", 2)], { now: NOW, lastPickedIndex: 1 }).name).toBe("c");
  });
});
