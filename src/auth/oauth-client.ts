/**
 * Requests to the OAuth issuer: code exchange, refresh, device code, revoke.
 * Platform fetch only, so the Worker uses the same code.
 */
import { CODEX_CLIENT_ID } from "./constants.js";
import { describeNetworkError } from "../core/errors.js";

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
}

/** Why a token request failed: terminal errors need a new login, transient ones may be retried. */
export class OAuthError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly terminal: boolean,
  ) {
    super(message);
    this.name = "OAuthError";
  }
}

const TERMINAL_CODES = new Set([
  "refresh_token_reused",
  "refresh_token_expired",
  "refresh_token_invalidated",
  "invalid_grant",
  "invalid_token",
  "access_denied",
  "invalid_client",
]);

function errorCode(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.error === "string") return record.error;
  if (record.error && typeof record.error === "object") {
    const code = (record.error as Record<string, unknown>).code;
    if (typeof code === "string") return code;
  }
  return typeof record.code === "string" ? record.code : undefined;
}

const EXPLANATIONS: Record<string, string> = {
  refresh_token_reused: "the refresh token was already used (another program refreshed this login)",
  refresh_token_expired: "the refresh token has expired",
  refresh_token_invalidated: "the refresh token was revoked",
  invalid_grant: "the issuer no longer accepts this refresh token",
};

/**
 * A token request gives up after this long: shorter than the credential lock's
 * staleness time (30 s), so a process waiting on a hung issuer never holds the
 * lock long enough for another to judge it abandoned.
 */
const TOKEN_REQUEST_TIMEOUT_MS = 20_000;

async function tokenRequest(
  fetchImpl: typeof fetch,
  issuer: string,
  body: Record<string, string>,
  json: boolean,
): Promise<TokenResponse> {
  let response: Response;
  try {
    response = await fetchImpl(`${issuer}/oauth/token`, {
      method: "POST",
      headers: json ? { "content-type": "application/json" } : { "content-type": "application/x-www-form-urlencoded" },
      body: json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
      signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    const reason = timedOut ? `no answer within ${TOKEN_REQUEST_TIMEOUT_MS / 1000} s` : describeNetworkError(error);
    throw new OAuthError(`could not reach the OAuth issuer at ${issuer} (${reason})`, "network_error", 0, false);
  }
  let text: string;
  try {
    text = await response.text();
  } catch {
    throw new OAuthError("the OAuth issuer's answer was cut off", "network_error", response.status, false);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const code = errorCode(parsed) ?? `http_${response.status}`;
    const terminal = TERMINAL_CODES.has(code) || response.status === 401 || response.status === 400;
    throw new OAuthError(
      EXPLANATIONS[code] ?? `the OAuth issuer answered HTTP ${response.status} (${code})`,
      code,
      response.status,
      terminal,
    );
  }
  const tokens = parsed as Partial<TokenResponse> | undefined;
  if (!tokens || typeof tokens.access_token !== "string")
    throw new OAuthError("the OAuth issuer's answer had no access token", "invalid_response", response.status, false);
  return tokens as TokenResponse;
}

/** grant_type=refresh_token, JSON body, as the current Codex CLI sends it (docs/protocol.md §2.1). */
export function requestRefresh(fetchImpl: typeof fetch, issuer: string, refreshToken: string): Promise<TokenResponse> {
  return tokenRequest(
    fetchImpl,
    issuer,
    { client_id: CODEX_CLIENT_ID, grant_type: "refresh_token", refresh_token: refreshToken },
    true,
  );
}

export function exchangeCode(
  fetchImpl: typeof fetch,
  issuer: string,
  code: string,
  redirectUri: string,
  codeVerifier: string,
): Promise<TokenResponse> {
  return tokenRequest(
    fetchImpl,
    issuer,
    {
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      client_id: CODEX_CLIENT_ID,
      code_verifier: codeVerifier,
    },
    false,
  );
}

/** Best effort: logout must work offline too. */
export async function revokeToken(
  fetchImpl: typeof fetch,
  issuer: string,
  token: string,
  timeoutMs = 3000,
): Promise<boolean> {
  try {
    const response = await fetchImpl(`${issuer}/oauth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: CODEX_CLIENT_ID, token }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response.ok;
  } catch {
    return false;
  }
}
