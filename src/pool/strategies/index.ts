/** The strategies by the name POOL_STRATEGY gives. */
import type { Strategy, StrategyName } from "../types.js";
import { fillFirst } from "./fill-first.js";
import { mostRoom } from "./most-room.js";
import { roundRobin } from "./round-robin.js";

export const STRATEGIES: Record<StrategyName, Strategy> = {
  "most-room": mostRoom,
  "round-robin": roundRobin,
  "fill-first": fillFirst,
};
