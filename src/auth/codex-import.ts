/** Reads the Codex CLI's auth.json (PROTOCOL §3) into our credential record. */
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { EnvRecord } from "../config.js";
import type { StoredCredentials } from "../credentials/types.js";
import { LoginError } from "./browser-login.js";
import { readIdentity } from "./jwt.js";

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
        ? `No Codex CLI login at ${file}. Run \`codex login\` first, pass the file (login --import FILE), or use another login method. (A Codex CLI that stores its login in the OS keyring has no file to import.)`
        : `Could not read ${file}: ${code ?? "unknown error"}.`,
    );
  }
  let parsed: { tokens?: { access_token?: unknown; refresh_token?: unknown; id_token?: unknown; account_id?: unknown }; last_refresh?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LoginError(`${file} is not valid JSON.`);
  }
  const tokens = parsed.tokens;
  if (!tokens || typeof tokens.access_token !== "string" || typeof tokens.refresh_token !== "string") {
    throw new LoginError(`${file} holds no ChatGPT tokens (an API-key login cannot be imported).`);
  }
  const access = readIdentity(tokens.access_token);
  const id = readIdentity(typeof tokens.id_token === "string" ? tokens.id_token : undefined);
  const lastRefresh = typeof parsed.last_refresh === "string" ? Date.parse(parsed.last_refresh) : NaN;
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    idToken: typeof tokens.id_token === "string" ? tokens.id_token : undefined,
    expiresAt: access.expiresAt ?? now,
    accountId: (typeof tokens.account_id === "string" && tokens.account_id) || id.accountId || access.accountId,
    userId: id.userId ?? access.userId,
    email: id.email ?? access.email,
    plan: id.plan ?? access.plan,
    lastRefresh: Number.isFinite(lastRefresh) ? lastRefresh : undefined,
  };
}
