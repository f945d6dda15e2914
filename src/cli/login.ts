/**
 * `codex-proxy login`: every way in — browser PKCE (default), device code,
 * import of the Codex CLI's auth.json, prompts, or flags for scripts.
 * Without a TTY and without the needed flags it fails fast, never hangs.
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { isCancel, password, text } from "@clack/prompts";
import open from "open";
import { runBrowserLogin, type PasteRedirect } from "../auth/browser-login.js";
import { defaultCodexAuthPath, readCodexAuthFile } from "../credentials/codex-import.js";
import { runDeviceLogin } from "../auth/device-login.js";
import { readIdentity } from "../auth/jwt.js";
import { requestRefresh } from "../auth/oauth-client.js";
import { credentialsFromTokens } from "../credentials/token-record.js";
import { loadCheckedConfig, type EnvRecord } from "../core/config.js";
import { formatDuration, parseEpochMs } from "../core/time.js";
import { checkAccountName, DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import { underCredentialLock, type StoredCredentials } from "../credentials/types.js";
import type { NodeAccountDirectory } from "../node/account-directory.js";
import { openReadable } from "./accounts.js";
import { openAccountDirectory, openPoolUsage } from "./credential-store.js";
import { inWords } from "./format.js";
import { type CliIO, resolveIO } from "./io.js";
import { LOGIN_TIMEOUT_DEFAULT_S } from "./defaults.js";

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
  /** The account to store the login in (default: the default account, credentials.json). */
  name?: string;
}

class UsageError extends Error {}

const DEFAULT_TIMEOUT_S = LOGIN_TIMEOUT_DEFAULT_S;

const NEEDED_FLAGS =
  "Without a terminal, use one of: --no-browser (prints the URL and waits for the callback), --device, --import [FILE], or --access-token T --refresh-token R.";

/** The login methods: two of them at once would be chosen between silently, so they are refused. */
function chosenMethods(options: LoginOptions): string[] {
  const methods: string[] = [];
  if (options.device) methods.push("--device");
  if (options.manual) methods.push("--manual");
  if (options.import !== undefined && options.import !== false) methods.push("--import");
  if (options.accessToken !== undefined) methods.push("--access-token");
  else if (options.refreshToken !== undefined) methods.push("--refresh-token");
  return methods;
}

/** Refuses flags that contradict each other or do nothing with the method chosen. */
function checkLoginFlags(options: LoginOptions): void {
  const methods = chosenMethods(options);
  if (methods.length > 1)
    throw new UsageError(
      `${methods.slice(0, -1).join(", ")} and ${methods.at(-1)} are different ways to log in: choose one.`,
    );
  const method = methods[0] ?? "the browser login";
  const flagsMode = method === "--access-token" || method === "--refresh-token";
  for (const [flag, given] of [
    ["--expires-at", options.expiresAt !== undefined],
    ["--account-id", options.accountId !== undefined],
  ] as const)
    if (given && !flagsMode) throw new UsageError(`${flag} goes with --access-token; ${method} does not use it.`);
  if (options.refresh === false && method !== "--import")
    throw new UsageError(`--no-refresh goes with --import; ${method} does not use it.`);
  if (options.timeout !== undefined && methods.length > 0)
    throw new UsageError(`--timeout is for the browser login; ${method} does not use it.`);
  if (options.browser === false && methods.length > 0)
    throw new UsageError(`--no-browser is for the browser login; ${method} does not use it.`);
}

/** `--timeout` in seconds, refused when it is not a positive number (it used to become NaN and give up at once). */
function parseTimeoutSeconds(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TIMEOUT_S;
  const seconds = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(
      `--timeout must be a number of seconds greater than 0, e.g. --timeout ${DEFAULT_TIMEOUT_S} (got "${raw}").`,
    );
  return seconds;
}

function expiryFromFlag(raw: string): number {
  const parsed = parseEpochMs(raw);
  if ("problem" in parsed) throw new UsageError(`--expires-at: ${parsed.problem}.`);
  return parsed.ms;
}

function fromFlags(options: LoginOptions): StoredCredentials {
  if (!options.accessToken || !options.refreshToken)
    throw new UsageError("--access-token and --refresh-token go together: pass both.");
  const identity = readIdentity(options.accessToken);
  const expiresAt = options.expiresAt !== undefined ? expiryFromFlag(options.expiresAt) : identity.expiresAt;
  if (expiresAt === undefined)
    throw new UsageError(
      "The access token carries no expiry (it is not a JWT with `exp`): pass --expires-at (epoch ms, epoch seconds or an ISO date).",
    );
  const accountId = options.accountId?.trim() || identity.accountId;
  if (identity.accountId && accountId !== identity.accountId)
    throw new UsageError(
      `--account-id ${accountId} does not match the account the access token was issued for (${identity.accountId}); the backend would refuse the pair. Leave --account-id out to use the token's.`,
    );
  // No lastRefresh: nothing was refreshed, and `status` would otherwise show a refresh that never happened.
  return {
    accessToken: options.accessToken,
    refreshToken: options.refreshToken,
    expiresAt,
    accountId,
    userId: identity.userId,
    email: identity.email,
    plan: identity.plan,
  };
}

/** Asks for the tokens; an empty or unusable answer is explained at its prompt and asked again, never lost. */
async function fromPrompts(input: Readable, output: Writable): Promise<StoredCredentials> {
  const ask = async (
    message: string,
    kind: { secret?: boolean; optional?: boolean; check?: (value: string) => string | undefined },
  ): Promise<string | undefined> => {
    const validate = (raw: string | undefined) => {
      const value = raw?.trim() ?? "";
      if (!value) return kind.optional ? undefined : `${message} is required: paste it, or press Ctrl+C to stop.`;
      return kind.check?.(value);
    };
    const answer = kind.secret
      ? await password({ message, validate, input, output })
      : await text({
          message,
          validate,
          input,
          output,
          placeholder: kind.optional ? "(optional: Enter to skip)" : undefined,
        });
    if (isCancel(answer)) throw new UsageError("Login cancelled.");
    return answer?.trim() || undefined;
  };
  const accessToken = (await ask("Access token", { secret: true }))!;
  const refreshToken = (await ask("Refresh token", { secret: true }))!;
  const identity = readIdentity(accessToken);
  const expiresAt = identity.expiresAt
    ? undefined
    : await ask("Expiry (epoch ms, epoch seconds or ISO date)", {
        check: (value) => {
          const parsed = parseEpochMs(value);
          return "problem" in parsed ? parsed.problem : undefined;
        },
      });
  const accountId = identity.accountId ? undefined : await ask("ChatGPT account id", { optional: true });
  return fromFlags({ accessToken, refreshToken, expiresAt, accountId });
}

/** Reads pasted addresses from stdin, explaining a wrong one and asking again, until one is taken or `signal` aborts. */
function askForPastedRedirect(input: Readable, out: Writable): PasteRedirect {
  return (take, signal) => {
    const rl = createInterface({ input, output: out, terminal: false });
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
  io: CliIO & { out?: Writable; vet?: (credentials: StoredCredentials) => Promise<void> } = {},
): Promise<StoredCredentials> {
  checkLoginFlags(options);
  const timeoutMs = parseTimeoutSeconds(options.timeout) * 1000;
  const { now, stdin, interactive, stdout, stderr } = resolveIO(io);
  const out = io.out ?? stdout;
  const config = loadCheckedConfig(env, ["CODEX_AUTH_ISSUER"]);
  const fetchImpl = globalThis.fetch.bind(globalThis);

  if (options.accessToken !== undefined || options.refreshToken !== undefined) return fromFlags(options);
  if (options.manual) {
    if (!interactive) throw new UsageError(`--manual asks questions and needs a terminal. ${NEEDED_FLAGS}`);
    return fromPrompts(stdin, out);
  }
  if (options.import !== undefined && options.import !== false) {
    const file = typeof options.import === "string" ? options.import : defaultCodexAuthPath(env);
    const imported = await readCodexAuthFile(file, now());
    // Before the refresh: refusing afterwards would throw away the only copy of a rotated chain.
    await io.vet?.(imported);
    if (options.refresh === false) {
      stderr.write(
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
    return firstLogin(credentialsFromTokens(tokens, now()));
  }

  const tty = interactive;
  if (!tty && options.browser !== false) throw new UsageError(`No terminal and no browser to open. ${NEEDED_FLAGS}`);
  const ports = env.CODEX_PROXY_CALLBACK_PORTS?.split(",")
    .map(Number)
    .filter((p) => Number.isInteger(p) && p >= 0);
  // No spinner: its redraws would wipe a URL being pasted at the prompt.
  const tokens = await runBrowserLogin({
    issuer: config.authIssuer,
    fetch: fetchImpl,
    ports: ports?.length ? ports : undefined,
    timeoutMs,
    pasteRedirect: tty ? askForPastedRedirect(stdin, out) : undefined,
    onUrl: async (url) => {
      // Plain, on its own line: copyable by hand and readable by scripts.
      out.write(`Sign in to ChatGPT in your browser:\n${url}\n`);
      if (options.browser !== false) {
        await open(url).catch(() => out.write("(Could not open a browser: open the URL above yourself.)\n"));
      }
      out.write(`Waiting for the sign-in (up to ${formatDuration(timeoutMs)}).\n`);
    },
  });
  return firstLogin(credentialsFromTokens(tokens, now()));
}

/** Tokens from a sign-in, not a refresh: `status` must not show a "last refresh" that never happened. */
function firstLogin(credentials: StoredCredentials): StoredCredentials {
  return { ...credentials, lastRefresh: undefined };
}

/** What the stored access token's expiry means for the user, in one sentence. */
function expiryNote(credentials: StoredCredentials, now: number): string {
  const left = credentials.expiresAt - now;
  if (left > 0) return `The access token expires ${inWords(left)}.`;
  return credentials.refreshToken
    ? `The access token has already expired (${inWords(left)}): \`codex-proxy serve\` renews it with the refresh token before the first request.`
    : "The access token has already expired and there is no refresh token to renew it: this login cannot be used; log in another way.";
}

/**
 * Refuses a login of a ChatGPT account that another name already holds: the pool is for distinct
 * accounts, and two names for one account share one usage limit, so failing over between them is useless.
 */
async function refuseDuplicate(
  directory: NodeAccountDirectory,
  name: string,
  credentials: StoredCredentials,
): Promise<void> {
  if (!credentials.accountId) return;
  for (const other of directory.names()) {
    if (other === name) continue;
    let stored: StoredCredentials | undefined;
    try {
      stored = await directory.open(other).get();
    } catch {
      continue; // an unreadable file holds no account to compare with
    }
    if (stored?.accountId === credentials.accountId)
      throw new UsageError(
        `This ChatGPT account (${credentials.email ?? credentials.accountId}) is already stored as "${other}": the pool is for different accounts. ` +
          `To renew that login, run \`codex-proxy login${other === DEFAULT_ACCOUNT ? "" : ` --name ${other}`}\`; to give it this name, \`codex-proxy accounts rename ${other} ${name}\`.`,
      );
  }
}

export async function runLogin(options: LoginOptions, env: EnvRecord = process.env, io: CliIO = {}): Promise<number> {
  const { now, stdout } = resolveIO(io);
  // A bad name is refused before any prompt or browser.
  const name = options.name === undefined ? DEFAULT_ACCOUNT : checkAccountName(options.name);
  checkLoginFlags(options);
  parseTimeoutSeconds(options.timeout);
  const directory = openAccountDirectory(env);
  const store = name === DEFAULT_ACCOUNT ? directory.open(name) : openReadable(directory, name);
  const vet = (credentials: StoredCredentials) => refuseDuplicate(directory, name, credentials);
  const credentials = await obtainLogin(options, env, { ...io, vet });
  await vet(credentials);
  // A login starts a new local chain: any earlier hand-off no longer applies. Under the lock, so
  // that a refresh in flight in a running `serve` finishes first and then sees the new login.
  // `disabled` is the owner's choice about the account, not about one login: it stays.
  const previous = await underCredentialLock(store, async () => {
    const before = await store.get();
    await store.set({
      ...credentials,
      handedOffTo: undefined,
      handedOffAt: undefined,
      lastRefreshError: undefined,
      lastRefreshErrorTerminal: undefined,
      disabled: before?.disabled || undefined,
    });
    return before;
  });
  // Usage and cooldowns seen for another ChatGPT account under this name no longer apply.
  if (previous?.accountId && previous.accountId !== credentials.accountId)
    await openPoolUsage(directory).move(name, undefined);
  const who = [credentials.email, credentials.plan ? `plan ${credentials.plan}` : undefined].filter(Boolean).join(", ");
  const account = name === DEFAULT_ACCOUNT ? "" : ` as account "${name}"`;
  stdout.write(
    `Logged in${who ? ` as ${who}` : ""}. ${expiryNote(credentials, now())} Stored${account} in ${store.path}.\n`,
  );
  if (previous?.disabled)
    stdout.write(`Account "${name}" is disabled: \`codex-proxy accounts enable ${name}\` puts it back in the pool.\n`);
  return 0;
}
