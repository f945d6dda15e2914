import { describe, expect, it } from "vitest";
import { ConfigError, loadCheckedConfig, loadConfig } from "../../../src/core/config.js";

describe("POOL_STRATEGY", () => {
  it("defaults to most-room and takes the three strategies, in any case", () => {
    expect(loadConfig({}).poolStrategy).toBe("most-room");
    expect(loadConfig({ POOL_STRATEGY: "Round-Robin" }).poolStrategy).toBe("round-robin");
    expect(loadConfig({ POOL_STRATEGY: "fill-first" }).poolStrategy).toBe("fill-first");
  });

  it("refuses another value with one message naming the choices", () => {
    expect(() => loadCheckedConfig({ POOL_STRATEGY: "random" })).toThrow(ConfigError);
    expect(() => loadCheckedConfig({ POOL_STRATEGY: "random" })).toThrow(
      /POOL_STRATEGY: "random" is not one of most-room, round-robin, fill-first/,
    );
  });
});
