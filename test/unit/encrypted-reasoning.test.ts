import { describe, expect, it } from "vitest";
import { ProxyError } from "../../src/core/errors.js";
import { isEncryptedContentRejection, withoutEncryptedReasoning } from "../../src/codex/encrypted-reasoning.js";

describe("the backend refusing replayed encrypted reasoning", () => {
  it("is known by its code, or by its message when the code is missing", () => {
    expect(isEncryptedContentRejection(new ProxyError(400, "x", { code: "invalid_encrypted_content" }))).toBe(true);
    const codeless = new ProxyError(
      400,
      "Codex backend rejected the request: The encrypted content gAAA...Rg== could not be verified. Reason: Encrypted content could not be decrypted or parsed.",
    );
    expect(isEncryptedContentRejection(codeless)).toBe(true);
    expect(isEncryptedContentRejection(new ProxyError(400, "Unsupported parameter: temperature"))).toBe(false);
    expect(isEncryptedContentRejection(new ProxyError(502, "x", { code: "invalid_encrypted_content" }))).toBe(false);
  });

  it("is retried without the blobs: summaries and every other item kept, empty reasoning items dropped", () => {
    const body = {
      model: "gpt-5.5",
      input: [
        { role: "user", content: "hi" },
        { type: "reasoning", id: "rs_1", encrypted_content: "gAAAA1", summary: [] },
        { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
        {
          type: "reasoning",
          id: "rs_2",
          encrypted_content: "gAAAA2",
          summary: [{ type: "summary_text", text: "why" }],
        },
        { type: "compaction", encrypted_content: "gAAAA3" },
      ],
    };
    const stripped = withoutEncryptedReasoning(body);
    expect(stripped?.removed).toBe(2);
    expect(stripped?.body.input).toEqual([
      { role: "user", content: "hi" },
      { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
      { type: "reasoning", id: "rs_2", summary: [{ type: "summary_text", text: "why" }] },
      { type: "compaction", encrypted_content: "gAAAA3" },
    ]);
    expect(body.input).toHaveLength(5); // the original is not changed
  });

  it("is not retried when there is nothing to remove", () => {
    expect(withoutEncryptedReasoning({ input: [{ role: "user", content: "hi" }] })).toBeUndefined();
    expect(withoutEncryptedReasoning({ input: "hi" })).toBeUndefined();
  });
});
