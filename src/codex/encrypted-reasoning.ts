/**
 * Reasoning the backend returns encrypted (`encrypted_content` on reasoning
 * items) can be decrypted only under the account that produced it. When a
 * conversation moves to another account (the pool failed over, or the user
 * logged in again with another account), the client replays the old items
 * and the backend answers 400 `invalid_encrypted_content` — sometimes with no
 * code, only the message (docs/protocol.md §7). Retrying the same body can
 * never succeed; retrying once without the unreadable blobs keeps the
 * conversation going with every message, tool call and reasoning summary.
 */
import { ProxyError } from "../core/errors.js";

const REJECTION_MESSAGE = /encrypted content.*(could not be verified|could not be decrypted)/i;

/** True for the backend's 400 refusing replayed encrypted reasoning. */
export function isEncryptedContentRejection(error: unknown): boolean {
  if (!(error instanceof ProxyError) || error.status !== 400) return false;
  return error.code === "invalid_encrypted_content" || REJECTION_MESSAGE.test(error.message);
}

type Item = Record<string, unknown>;

const isItem = (value: unknown): value is Item => typeof value === "object" && value !== null && !Array.isArray(value);

/** A reasoning item still worth sending once its blob is gone: it has a summary or content to show. */
function hasVisibleReasoning(item: Item): boolean {
  const filled = (value: unknown) => Array.isArray(value) && value.length > 0;
  return filled(item.summary) || filled(item.content);
}

/**
 * The request without `encrypted_content` on its input's reasoning items;
 * items left with nothing to show are dropped. Undefined when there was
 * nothing to remove (a retry would then fail the same way).
 */
export function withoutEncryptedReasoning(
  body: Record<string, unknown>,
): { body: Record<string, unknown>; removed: number } | undefined {
  if (!Array.isArray(body.input)) return undefined;
  let removed = 0;
  const input: unknown[] = [];
  for (const item of body.input as unknown[]) {
    if (!isItem(item) || item.type !== "reasoning" || item.encrypted_content === undefined) {
      input.push(item);
      continue;
    }
    removed++;
    const { encrypted_content: _dropped, ...rest } = item;
    if (hasVisibleReasoning(rest)) input.push(rest);
  }
  return removed === 0 ? undefined : { body: { ...body, input }, removed };
}
