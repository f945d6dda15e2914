/** The fake backend's 2026 checks are as strict as the real backend's (docs/protocol.md §11). */
import { describe, expect, it } from "vitest";
import { checkCompactionItems, isCompactionRequest } from "../fake/codex-parity.js";

const user = { type: "message", role: "user", content: [{ type: "input_text", text: "x" }] };

describe("fake backend: compaction", () => {
  it("recognises a compaction request by its final trigger", () => {
    expect(isCompactionRequest({ input: [user, { type: "compaction_trigger" }] })).toBe(true);
    expect(isCompactionRequest({ input: [{ type: "compaction_trigger" }, user] })).toBe(false);
  });

  it("refuses a trigger that is not last, and a compaction item without its encrypted content", () => {
    expect(checkCompactionItems([{ type: "compaction_trigger" }, user])?.status).toBe(400);
    expect(checkCompactionItems([{ type: "compaction" }, user])?.status).toBe(400);
    expect(checkCompactionItems([{ type: "compaction", encrypted_content: "gAAA" }, user])).toBeUndefined();
  });
});
