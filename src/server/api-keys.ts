/**
 * API-key checks for `/v1/*` (PROXY_API_KEY) and `/admin/*` (ADMIN_API_KEY):
 * `Authorization: Bearer <key>` or `X-API-Key: <key>`, compared in constant time.
 */

const encoder = new TextEncoder();

/**
 * Compares two strings without an early exit. Both are hashed first so the
 * loop length does not depend on the secret's length.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const va = new Uint8Array(da);
  const vb = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < va.length; i++) diff |= va[i]! ^ vb[i]!;
  return diff === 0;
}

/** The key a client presented, or undefined. Authorization takes precedence over X-API-Key. */
export function presentedKey(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    return match?.[1]?.trim() || undefined;
  }
  return headers.get("x-api-key")?.trim() || undefined;
}

export async function hasValidKey(headers: Headers, expected: string): Promise<boolean> {
  const key = presentedKey(headers);
  // Still do the comparison on a missing key so timing does not reveal which check failed.
  return constantTimeEqual(key ?? "", expected).then((equal) => equal && key !== undefined);
}
