/** Reads the Codex CLI's auth.json, or a look-alike (docs/protocol.md §3), into our credential record. */
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { EnvRecord } from "../core/config.js";
import type { StoredCredentials } from "./types.js";
import { LoginError } from "../auth/browser-login.js";
import { readIdentity } from "../auth/jwt.js";

export function defaultCodexAuthPath(env: EnvRecord): string {
  const home = env.CODEX_HOME?.trim() || path.join(os.homedir(), ".codex");
  return path.join(home, "auth.json");
}

export async function readCodexAuthFile(file: string, now: number): Promise<StoredCredentials> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LoginError(
      code === "ENOENT"
        ? `No Codex CLI login at ${file}. Run \`codex login\` first, pass the file (login --import FILE), ` +
            "or use another login method. (A Codex CLI that stores its login in the OS keyring has no file to import.)"
        : `Could not read ${file}: ${code ?? "unknown error"}.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LoginError(`${file} is not valid JSON.`);
  }
  return credentialsFromAuthFile(parsed, file, now);
}

const str = (value: unknown): string | undefined => (typeof value === "string" && value.length > 0 ? value : undefined);

interface TokenFields {
  access_token?: unknown;
  refresh_token?: unknown;
  id_token?: unknown;
  account_id?: unknown;
  email?: unknown;
  /** dvcrn/codex-proxy's copy: expiry in ms. */
  expiresAt?: unknown;
  /** CLIProxyAPI's file: expiry as RFC 3339. */
  expired?: unknown;
}

/**
 * The Codex CLI's auth.json, and the two look-alikes docs/protocol.md §3 lists:
 * dvcrn/codex-proxy's copy (the same shape plus `tokens.expiresAt`) and
 * CLIProxyAPI's per-account file (the token fields at the top level).
 * `file` only names the file in messages.
 */
function credentialsFromAuthFile(parsed: unknown, file: string, now: number): StoredCredentials {
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new LoginError(`${file} does not hold a JSON object.`);
  const record = parsed as TokenFields & {
    tokens?: unknown;
    auth_mode?: unknown;
    OPENAI_API_KEY?: unknown;
    last_refresh?: unknown;
  };
  const tokens: TokenFields =
    record.tokens && typeof record.tokens === "object" ? (record.tokens as TokenFields) : record;
  const accessToken = str(tokens.access_token);
  const refreshToken = str(tokens.refresh_token);
  if (!accessToken || !refreshToken) {
    const apiKeyLogin = record.auth_mode === "apikey" || str(record.OPENAI_API_KEY) !== undefined;
    throw new LoginError(
      apiKeyLogin
        ? `${file} holds an API-key login, not a ChatGPT one: run \`codex login\` with ChatGPT first, or use \`codex-proxy login\`.`
        : `${file} holds no ChatGPT tokens (access_token and refresh_token).`,
    );
  }
  const access = readIdentity(accessToken);
  const idToken = str(tokens.id_token);
  const id = readIdentity(idToken);
  const lastRefresh = typeof record.last_refresh === "string" ? Date.parse(record.last_refresh) : NaN;
  const expiredField = typeof tokens.expired === "string" ? Date.parse(tokens.expired) : NaN;
  const fileExpiry =
    typeof tokens.expiresAt === "number" ? tokens.expiresAt : Number.isFinite(expiredField) ? expiredField : undefined;
  return {
    accessToken,
    refreshToken,
    idToken,
    // The token's own claim first; without any expiry it counts as expired, so it is refreshed before use.
    expiresAt: access.expiresAt ?? fileExpiry ?? now,
    accountId: str(tokens.account_id) ?? id.accountId ?? access.accountId,
    userId: id.userId ?? access.userId,
    email: id.email ?? access.email ?? str(tokens.email),
    plan: id.plan ?? access.plan,
    lastRefresh: Number.isFinite(lastRefresh) ? lastRefresh : undefined,
  };
}
