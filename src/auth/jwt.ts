/**
 * Reads claims from ChatGPT's JWTs. No signature check: we only read our own
 * tokens to learn expiry and account ids (docs/protocol.md §1.3).
 */

interface JwtClaims {
  exp?: number;
  email?: string;
  [claim: string]: unknown;
}

const AUTH_CLAIM = "https://api.openai.com/auth";
const PROFILE_CLAIM = "https://api.openai.com/profile";

function base64UrlDecode(segment: string): string {
  const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * Returns the payload of a JWT, or undefined when the string is not one.
 * @public Kept exported for the status and admin views being extended to show more claims.
 */
export function decodeJwtClaims(token: string | undefined | null): JwtClaims | undefined {
  if (!token) return undefined;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(base64UrlDecode(parts[1]));
    return payload && typeof payload === "object" && !Array.isArray(payload) ? (payload as JwtClaims) : undefined;
  } catch {
    return undefined;
  }
}

function authClaims(claims: JwtClaims | undefined): Record<string, unknown> {
  const auth = claims?.[AUTH_CLAIM];
  return auth && typeof auth === "object" ? (auth as Record<string, unknown>) : {};
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

export interface ChatGptIdentity {
  accountId?: string;
  userId?: string;
  email?: string;
  plan?: string;
  /** Expiry in epoch milliseconds. */
  expiresAt?: number;
  /** Issue time (`iat`) in epoch milliseconds. */
  issuedAt?: number;
}

/** Everything we use from a token: account id, user id, email, plan, expiry. */
export function readIdentity(token: string | undefined | null): ChatGptIdentity {
  const claims = decodeJwtClaims(token);
  if (!claims) return {};
  const auth = authClaims(claims);
  const profile = claims[PROFILE_CLAIM] as Record<string, unknown> | undefined;
  return {
    accountId: stringOrUndefined(auth.chatgpt_account_id),
    userId: stringOrUndefined(auth.chatgpt_user_id) ?? stringOrUndefined(auth.user_id),
    email: stringOrUndefined(claims.email) ?? stringOrUndefined(profile?.email),
    plan: stringOrUndefined(auth.chatgpt_plan_type),
    expiresAt: typeof claims.exp === "number" ? claims.exp * 1000 : undefined,
    issuedAt: typeof claims.iat === "number" ? claims.iat * 1000 : undefined,
  };
}
