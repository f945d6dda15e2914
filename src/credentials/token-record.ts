/**
 * Builds the stored record from an issuer's token answer, reading account,
 * user, email and plan from the JWTs and expiry from `expires_in` or `exp`.
 */
import type { StoredCredentials } from "./types.js";
import { readIdentity } from "../auth/jwt.js";
import type { TokenResponse } from "../auth/oauth-client.js";

// When neither expires_in nor a JWT exp is known, assume the shortest lifetime seen in practice.
const FALLBACK_LIFETIME_MS = 60 * 60_000;

export function credentialsFromTokens(
  tokens: TokenResponse,
  now: number,
  previous?: StoredCredentials,
): StoredCredentials {
  const access = readIdentity(tokens.access_token);
  const id = readIdentity(tokens.id_token ?? previous?.idToken);
  const expiresAt =
    typeof tokens.expires_in === "number" && tokens.expires_in > 0
      ? now + tokens.expires_in * 1000
      : (access.expiresAt ?? now + FALLBACK_LIFETIME_MS);
  return {
    accessToken: tokens.access_token,
    // Keep the old refresh token when the answer omits one (docs/protocol.md §2.3).
    refreshToken: tokens.refresh_token ?? previous?.refreshToken,
    idToken: tokens.id_token ?? previous?.idToken,
    expiresAt,
    accountId: id.accountId ?? access.accountId ?? previous?.accountId,
    userId: id.userId ?? access.userId ?? previous?.userId,
    email: id.email ?? access.email ?? previous?.email,
    plan: id.plan ?? access.plan ?? previous?.plan,
    lastRefresh: now,
  };
}
