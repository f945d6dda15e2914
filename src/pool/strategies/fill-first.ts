/**
 * Uses the first ready account in pool order (the default account first)
 * until it reaches its limit, then the next: the other plans stay untouched
 * for as long as possible.
 */
import type { Strategy } from "../types.js";

export const fillFirst: Strategy = {
  name: "fill-first",
  pick(candidates) {
    return candidates.reduce((first, candidate) => (candidate.index < first.index ? candidate : first));
  },
};
