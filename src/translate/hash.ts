/**
 * A small synchronous, non-cryptographic hash (two FNV-1a 32-bit lanes).
 * Used for stable cache keys and short name suffixes, where collisions only
 * cost a cache miss; Web Crypto would force async code on the hot path, and
 * node:crypto does not exist in Workers.
 */

function fnv1a(text: string, seed: number): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** 16 hex characters. */
export function hash64(text: string): string {
  return fnv1a(text, 0x811c9dc5).toString(16).padStart(8, "0") + fnv1a(text, 0x050c5d1f).toString(16).padStart(8, "0");
}

/** A UUID-formatted stable key (32 hex characters from four lanes). */
export function stableUuid(text: string): string {
  const hex = hash64(text) + hash64(`${text.length}:${text}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
