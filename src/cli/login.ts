/**
 * `codex-proxy login`: every way in — browser PKCE (default), device code,
 * import of the Codex CLI's auth.json, prompts, or flags for scripts.
 * Without a TTY and without the needed flags it fails fast, never hangs.
 */
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { isCancel, password, text } from "@clack/prompts";
import open from "open";
import { runBrowserLogin, type PasteRedirect } from "../auth/browser-login.js";
import { defaultCodexAuthPath, readCodexAuthFile } from "../credentials/codex-import.js";
import { runDeviceLogin } from "../auth/device-login.js";
import { readIdentity } from "../auth/jwt.js";
import { requestRefresh } from "../auth/oauth-client.js";
import { credentialsFromTokens } from "../credentials/token-record.js";
import { loadConfig, type EnvRecord } from "../core/config.js";
import type { StoredCredentials } from "../credentials/types.js";
import { openCredentialStore } from "./credential-store.js";
import { inWords } from "./format.js";

export interface LoginOptions {
  device?: boolean;
  import?: string | boolean;
  refresh?: boolean;
  manual?: boolean;
  accessToken?: string;
  refreshToken?: string;
  expiresAt?: string;
  accountId?: string;
  browser?: boolean;
  timeout?: string;
}

export class UsageError extends Error {}

const interactive = () => Boolean(process.stdin.isTTY && process.stdout.isTTY);

const NEEDED_FLAGS =
  "Without a terminal, use one of: --no-browser (prints the URL and waits for the callback), --device, --import [FILE], or --access-token T --refresh-token R.";

function fromFlags(options: LoginOptions, now: number): StoredCredentials {
  if (!options.accessToken || !options.refreshToken)
    throw new UsageError("--access-token and --refresh-token go together: pass both.");
  const identity = readIdentity(options.accessToken);
  let expiresAt = identity.expiresAt;
  if (options.expiresAt !== undefined) {
    expiresAt = Number(options.expiresAt);
    if (!Number.isFinite(expiresAt) || expiresAt <= 0)
      throw new UsageError("--expires-at must be a time in epoch milliseconds, e.g. 1767225600000.");
  }
  if (expiresAt === undefined) throw new UsageError("The access token carries no expiry: pass --expires-at MS.");
  const accountId = options.accountId ?? identity.accountId;
  return {
    accessToken: options.accessToken,
    refreshToken: options.refreshToken,
    expiresAt,
    accountId,
    userId: identity.userId,
    email: identity.email,
    plan: identity.plan,
    lastRefresh: now,
  };
}

async function fromPrompts(now: number): Promise<StoredCredentials> {
  const ask = async (message: string, secret: boolean, optional = false): Promise<string | undefined> => {
    const answer = secret
      ? await password({ message })
      : await text({ message, placeholder: optional ? "(optional: Enter to skip)" : undefined });
    if (isCancel(answer)) throw new UsageError("Login cancelled.");
    const value = answer?.trim();
    if (!value && !optional) throw new UsageError(`${message} is required.`);
    return value || undefined;
  };
  const accessToken = (await ask("Access token", true))!;
  const refreshToken = (await ask("Refresh token", true))!;
  const identity = readIdentity(accessToken);
  const expiresAt = identity.expiresAt ? undefined : await ask("Expiry (epoch ms)", false);
  const accountId = identity.accountId ? undefined : await ask("ChatGPT account id", false, true);
  return fromFlags({ accessToken, refreshToken, expiresAt, accountId }, now);
}

/** Reads pasted addresses from stdin, explaining a wrong one and asking again, until one is taken or `signal` aborts. */
function askForPastedRedirect(out: Writable): PasteRedirect {
  return (take, signal) => {
    const rl = createInterface({ input: process.stdin, output: out, terminal: false });
    signal.addEventListener("abort", () => rl.close(), { once: true });
    const ask = () =>
      rl.question(
        "If the browser is on another machine, paste the address it ended on here: ",
        { signal },
        (answer) => {
          const problem = answer.trim() ? take(answer) : "";
          if (problem === undefined) return; // taken: the login goes on, and ends the asking
          if (problem) out.write(`${problem}\n`);
          ask();
        },
      );
    ask();
  };
}

/**
 * Performs a login and returns the credentials, without storing them.
 * Instructions go to `out`: stderr when the caller's stdout is for JSON.
 */
export async function obtainLogin(
  options: LoginOptions,
  env: EnvRecord = process.env,
  { now = Date.now, out = process.stdout }: { now?: () => number; out?: Writable } = {},
): Promise<StoredCredentials> {
  const config = loadConfig(env);
  const fetchImpl = globalThis.fetch.bind(globalThis);

  if (options.accessToken || options.refreshToken) return fromFlags(options, now());
  if (options.manual) {
    if (!interactive()) throw new UsageError(`--manual asks questions and needs a terminal. ${NEEDED_FLAGS}`);
    return fromPrompts(now());
  }
  if (options.import !== undefined && options.import !== false) {
    const file = typeof options.import === "string" ? options.import : defaultCodexAuthPath(env);
    const imported = await readCodexAuthFile(file, now());
    if (options.refresh === false) {
      process.stderr.write(
        `Warning: --no-refresh: this tool now shares a refresh-token chain with the Codex CLI (${file}). Whichever refreshes second gets refresh_token_reused and must log in again.\n`,
      );
      return imported;
    }
    // One refresh forks an independent chain, so the Codex CLI and this tool never rotate the same token.
    const tokens = await requestRefresh(fetchImpl, config.authIssuer, imported.refreshToken!);
    out.write(`Imported ${file} and refreshed once: this tool now holds its own token chain.\n`);
    return credentialsFromTokens(tokens, now(), imported);
  }
  if (options.device) {
    const tokens = await runDeviceLogin({
      issuer: config.authIssuer,
      fetch: fetchImpl,
      onCode: (url, code) =>
        out.write(
          `Open this page on any device and sign in:\n${url}\nThen enter the code: ${code}\nWaiting for approval (up to 15 minutes)…\n`,
        ),
    });
    return credentialsFromTokens(tokens, now());
  }

  const tty = interactive();
  if (!tty && options.browser !== false) throw new UsageError(`No terminal and no browser to open. ${NEEDED_FLAGS}`);
  const timeoutMs = Math.max(1, Number(options.timeout ?? 300)) * 1000;
  const ports = env.CODEX_PROXY_CALLBACK_PORTS?.split(",")
    .map(Number)
    .filter((p) => Number.isInteger(p) && p >= 0);
  // No spinner: its redraws would wipe a URL being pasted at the prompt.
  const tokens = await runBrowserLogin({
    issuer: config.authIssuer,
    fetch: fetchImpl,
    ports: ports?.length ? ports : undefined,
    timeoutMs,
    pasteRedirect: tty ? askForPastedRedirect(out) : undefined,
    onUrl: async (url) => {
      // Plain, on its own line: copyable by hand and readable by scripts.
      out.write(`Sign in to ChatGPT in your browser:\n${url}\n`);
      if (options.browser !== false) {
        await open(url).catch(() => out.write("(Could not open a browser: open the URL above yourself.)\n"));
      }
      out.write(`Waiting for the sign-in (up to ${Math.round(timeoutMs / 1000)} s).\n`);
    },
  });
  return credentialsFromTokens(tokens, now());
}

export async function runLogin(options: LoginOptions, env: EnvRecord = process.env, now = Date.now): Promise<number> {
  const store = openCredentialStore(env);
  const credentials = await obtainLogin(options, env, { now });
  // A login starts a new local chain: any earlier hand-off no longer applies.
  await store.set({ ...credentials, handedOffTo: undefined, handedOffAt: undefined, lastRefreshError: undefined });
  const who = [credentials.email, credentials.plan ? `plan ${credentials.plan}` : undefined].filter(Boolean).join(", ");
  process.stdout.write(
    `Logged in${who ? ` as ${who}` : ""}. The access token expires ${inWords(credentials.expiresAt - now())}; stored in ${store.path}.\n`,
  );
  return 0;
}
