/**
 * Unsigned JWTs shaped like ChatGPT's access tokens (docs/protocol.md §1): the
 * proxy only reads their claims, so tests and fakes build them with this.
 */

/** The claim under which ChatGPT tokens carry the account, user and plan. */
export const AUTH_CLAIM = "https://api.openai.com/auth";

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** `header.claims.signature`, with `alg: none` and a signature that is not checked by anyone. */
export function unsignedJwt(claims: Record<string, unknown>, signature = "fake-signature"): string {
  return `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims)}.${Buffer.from(signature).toString("base64url")}`;
}

/**
 * An access token that expires in `expiresInSeconds` (default a day), for
 * `account` unless `claims` overrides it. The fake backend accepts it only once
 * registered (`backend.acceptToken`).
 */
export function accessToken(
  options: { expiresInSeconds?: number; accountId?: string; claims?: Record<string, unknown>; signature?: string } = {},
): string {
  const exp = Math.floor(Date.now() / 1000) + (options.expiresInSeconds ?? 86_400);
  const auth = options.accountId === undefined ? {} : { [AUTH_CLAIM]: { chatgpt_account_id: options.accountId } };
  return unsignedJwt({ exp, ...auth, ...options.claims }, options.signature);
}
