/**
 * Each new conversation goes to the next ready account in pool order after
 * the one chosen last, wrapping around: the load is spread evenly by count.
 */
import type { Strategy } from "../types.js";

export const roundRobin: Strategy = {
  name: "round-robin",
  pick(candidates, { lastPickedIndex }) {
    if (lastPickedIndex === undefined) return candidates[0]!;
    return candidates.find((c) => c.index > lastPickedIndex) ?? candidates[0]!;
  },
};
