/**
 * A thinking block's `signature` carries the reasoning item's encrypted
 * content, so that a later turn that sends the block back restores the
 * reasoning item and the model keeps its chain of thought across tool calls.
 * The prefix tells our signatures from Anthropic's own, which the backend
 * could not read: those blocks are dropped.
 */

const PREFIX = "codex-proxy.1.";

type Json = Record<string, unknown>;

export function signatureFor(encryptedContent: string): string {
  return PREFIX + encryptedContent;
}

/** The reasoning input item for a thinking block we signed, or undefined. */
export function restoreReasoning(block: Json): Json | undefined {
  const signature = block.signature;
  if (typeof signature !== "string" || !signature.startsWith(PREFIX)) return undefined;
  const encrypted = signature.slice(PREFIX.length);
  if (!encrypted) return undefined;
  const text = typeof block.thinking === "string" ? block.thinking : "";
  return {
    type: "reasoning",
    summary: text ? [{ type: "summary_text", text }] : [],
    encrypted_content: encrypted,
  };
}
