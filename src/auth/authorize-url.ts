/** The authorize URL, parameters in the official order, spaces as %20 (docs/protocol.md §1.1–§1.2). */
import { CODEX_CLIENT_ID, LOGIN_SCOPE, ORIGINATOR } from "./constants.js";

export function buildAuthorizeUrl(issuer: string, redirectUri: string, challenge: string, state: string): string {
  const params: Array<[string, string]> = [
    ["response_type", "code"],
    ["client_id", CODEX_CLIENT_ID],
    ["redirect_uri", redirectUri],
    ["scope", LOGIN_SCOPE],
    ["code_challenge", challenge],
    ["code_challenge_method", "S256"],
    ["id_token_add_organizations", "true"],
    ["codex_cli_simplified_flow", "true"],
    ["state", state],
    ["originator", ORIGINATOR],
  ];
  // encodeURIComponent, not URLSearchParams: the issuer rejects "+" for spaces.
  return `${issuer}/oauth/authorize?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`;
}
