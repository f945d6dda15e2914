/**
 * `codex-proxy accounts`: the pool's accounts on disk — list them, remove,
 * rename, disable or enable one. Every write runs under the lock of the file
 * it touches, so a `serve` refreshing that account at the same moment either
 * finishes first or sees the change; no step ever leaves a token only in memory.
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { confirm, isCancel } from "@clack/prompts";
import { revokeToken } from "../auth/oauth-client.js";
import { loadConfig, type EnvRecord } from "../core/config.js";
import { checkAccountName, DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import { type StoredCredentials, underCredentialLock } from "../credentials/types.js";
import type { NodeAccountDirectory } from "../node/account-directory.js";
import { type ConfCredentialStore, CredentialFileError } from "../node/conf-store.js";
import type { AccountSummary } from "../pool/types.js";
import { type AccountReading, readAccounts } from "./account-summaries.js";
import { openAccountDirectory, openPoolUsage } from "./credential-store.js";
import { inWords, table } from "./format.js";
import { type CliIO, resolveIO } from "./io.js";

export interface AccountsListOptions {
  json?: boolean;
}

export interface AccountsRemoveOptions {
  yes?: boolean;
}

/** A command about one account that does not exist (or a name that cannot be one): exit 1 with this message. */
export class AccountError extends Error {}

function unknownAccount(directory: NodeAccountDirectory, name: string): AccountError {
  const known = directory.names().filter((known) => existsSync(directory.pathOf(known)));
  return new AccountError(
    `No account named "${name}"${known.length ? ` (accounts: ${known.join(", ")})` : " (no accounts yet: run `codex-proxy login`)"}.`,
  );
}

/** The store of an existing account; a file that cannot be read is an error that says how to get rid of it. */
export function openReadable(directory: NodeAccountDirectory, name: string): ConfCredentialStore {
  try {
    return directory.open(name);
  } catch (error) {
    if (!(error instanceof CredentialFileError)) throw error;
    const removal = name === DEFAULT_ACCOUNT ? "codex-proxy logout" : `codex-proxy accounts remove ${name}`;
    throw new AccountError(
      `The file of account "${name}" (${directory.pathOf(name)}) cannot be read; it was left untouched. Fix it, or remove it with \`${removal}\`.`,
    );
  }
}

function usageColumn(summary: AccountSummary, now: number): string {
  const windows = summary.rateLimits?.windows ?? [];
  if (windows.length === 0) return "-";
  const seen = summary.rateLimits ? ` (${inWords(summary.rateLimits.observedAt - now)})` : "";
  return `${windows.map((window) => `${window.windowMinutes === 300 ? "5h" : window.windowMinutes === 10_080 ? "week" : `${window.windowMinutes ?? "?"}m`} ${Math.round(window.usedPercent)}%`).join(", ")}${seen}`;
}

function expiryColumn(summary: AccountSummary, now: number): string {
  if (summary.expiresAt === undefined) return "-";
  return summary.expiresAt > now
    ? `expires ${inWords(summary.expiresAt - now)}`
    : `expired ${inWords(summary.expiresAt - now)}`;
}

function stateColumn(summary: AccountSummary): string {
  if (summary.state === "cooling_down" || summary.state === "backing_off")
    return `${summary.state === "cooling_down" ? "cooling down" : "backing off"} until ${new Date(summary.cooldownUntil!).toLocaleString()}`;
  return summary.state.replace("_", " ");
}

/** The table, then one line for each account that is not ready, saying why. */
function renderList(readings: AccountReading[], now: number): string {
  if (readings.length === 0)
    return "No accounts. Add one with `codex-proxy login` (or `codex-proxy login --name NAME`).";
  const rows = readings.map(({ summary }) => [
    summary.name,
    summary.email ?? "-",
    summary.plan ?? "-",
    summary.state === "unreadable" ? "-" : expiryColumn(summary, now),
    usageColumn(summary, now),
    stateColumn(summary),
    summary.handedOffTo ?? "-",
  ]);
  const lines = [table(["NAME", "EMAIL", "PLAN", "ACCESS TOKEN", "USAGE", "STATE", "HANDED OFF TO"], rows)];
  for (const { summary } of readings) {
    if (summary.state === "ready") continue;
    const until =
      summary.cooldownUntil !== undefined
        ? ` (until ${new Date(summary.cooldownUntil).toLocaleString()}, ${inWords(summary.cooldownUntil - now)})`
        : "";
    lines.push(`${summary.name}: ${summary.reason ?? summary.state}${until}`);
  }
  return lines.join("\n");
}

export async function runAccountsList(
  options: AccountsListOptions,
  env: EnvRecord = process.env,
  io: CliIO = {},
): Promise<number> {
  const { stdout, now: clock } = resolveIO(io);
  const now = clock();
  const directory = openAccountDirectory(env);
  const readings = await readAccounts(directory, openPoolUsage(directory), now);
  if (options.json)
    stdout.write(
      `${JSON.stringify(
        readings.map((reading) => reading.summary),
        null,
        2,
      )}\n`,
    );
  else stdout.write(`${renderList(readings, now)}\n`);
  return 0;
}

/** Runs `fn` on the result, turning a missing account or a bad name into exit 1 with its message. */
async function reporting(io: CliIO, fn: () => Promise<string>): Promise<number> {
  const { stdout, stderr } = resolveIO(io);
  try {
    stdout.write(`${await fn()}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof AccountError)) throw error;
    stderr.write(`${error.message}\n`);
    return 1;
  }
}

/**
 * Removes one account's file under its lock and forgets its usage, revoking the refresh token
 * upstream unless the chain was handed off to a Worker (revoking would break the Worker).
 * A file that cannot be read holds nothing usable: it is removed as it is.
 */
export async function removeAccount(name: string, env: EnvRecord): Promise<string> {
  const directory = openAccountDirectory(env);
  const path = directory.pathOf(name);
  if (!existsSync(path)) throw unknownAccount(directory, name);
  let credentials: StoredCredentials | undefined;
  try {
    const store = directory.open(name);
    credentials = await underCredentialLock(store, async () => {
      const stored = await store.get();
      await store.clear();
      return stored;
    });
  } catch (error) {
    if (!(error instanceof CredentialFileError)) throw error;
    await rm(path, { force: true });
    await openPoolUsage(directory).move(name, undefined);
    return `The file of account "${name}" (${path}) could not be read, so nothing could be revoked; removed it.`;
  }
  await openPoolUsage(directory).move(name, undefined);
  const revoke = Boolean(credentials?.refreshToken && !credentials.handedOffTo);
  const revoked = revoke
    ? await revokeToken(globalThis.fetch, loadConfig(env).authIssuer, credentials!.refreshToken!)
    : false;
  return `Removed account "${name}" (${path})${revoke ? (revoked ? " and revoked its tokens." : "; could not reach the issuer to revoke its tokens.") : "."}`;
}

export async function runAccountsRemove(
  name: string,
  options: AccountsRemoveOptions,
  env: EnvRecord = process.env,
  io: CliIO = {},
): Promise<number> {
  const checked = checkAccountName(name);
  const resolved = resolveIO(io);
  if (resolved.interactive && !options.yes) {
    const directory = openAccountDirectory(env);
    if (!existsSync(directory.pathOf(checked)))
      return reporting(io, async () => {
        throw unknownAccount(directory, checked);
      });
    const answer = await confirm({
      message: `Remove account "${checked}" and revoke its tokens?`,
      initialValue: false,
      input: resolved.stdin,
      output: resolved.stdout,
    });
    if (isCancel(answer) || !answer) {
      resolved.stdout.write("Nothing removed.\n");
      return 1;
    }
  }
  return reporting(io, () => removeAccount(checked, env));
}

/**
 * Renames an account: under both files' locks (taken in name order, so two renames never wait on
 * each other), NEW is written first and OLD removed after, so at every moment one of the two files
 * holds the tokens. Refuses when NEW exists. The usage entry moves along.
 */
export async function runAccountsRename(
  from: string,
  to: string,
  env: EnvRecord = process.env,
  io: CliIO = {},
): Promise<number> {
  const oldName = checkAccountName(from);
  const newName = checkAccountName(to);
  return reporting(io, async () => {
    const directory = openAccountDirectory(env);
    if (oldName === newName) throw new AccountError(`"${oldName}" is already called that.`);
    if (!existsSync(directory.pathOf(oldName))) throw unknownAccount(directory, oldName);
    const exists = () =>
      new AccountError(
        `An account named "${newName}" already exists (${directory.pathOf(newName)}); remove or rename it first.`,
      );
    if (existsSync(directory.pathOf(newName))) throw exists();
    const source = openReadable(directory, oldName);
    const target = openReadable(directory, newName);
    const [first, second] = oldName < newName ? [source, target] : [target, source];
    await underCredentialLock(first, () =>
      underCredentialLock(second, async () => {
        // Checked again under the locks: a login may have created NEW meanwhile.
        if (existsSync(directory.pathOf(newName))) throw exists();
        const credentials = await source.get();
        if (!credentials) throw unknownAccount(directory, oldName);
        await target.set(credentials);
        await source.clear();
      }),
    );
    await openPoolUsage(directory).move(oldName, newName);
    const note =
      oldName === DEFAULT_ACCOUNT
        ? " `codex-proxy login` without --name now starts a new default account."
        : newName === DEFAULT_ACCOUNT
          ? " It is now the default account (the one `login`, `logout` and `push-credentials` use without --name)."
          : "";
    return `Renamed account "${oldName}" to "${newName}" (${directory.pathOf(newName)}).${note}`;
  });
}

/** Sets or clears `disabled` in the account's file, under its lock, keeping everything else as it is. */
export async function runAccountsSetDisabled(
  name: string,
  disabled: boolean,
  env: EnvRecord = process.env,
  io: CliIO = {},
): Promise<number> {
  const checked = checkAccountName(name);
  return reporting(io, async () => {
    const directory = openAccountDirectory(env);
    if (!existsSync(directory.pathOf(checked))) throw unknownAccount(directory, checked);
    const store = openReadable(directory, checked);
    const changed = await underCredentialLock(store, async () => {
      const credentials = await store.get();
      if (!credentials) throw unknownAccount(directory, checked);
      if (Boolean(credentials.disabled) === disabled) return false;
      await store.set({ ...credentials, disabled: disabled || undefined });
      return true;
    });
    if (!changed) return `Account "${checked}" is already ${disabled ? "disabled" : "enabled"}.`;
    return disabled
      ? `Disabled account "${checked}": the pool leaves it out until \`codex-proxy accounts enable ${checked}\`. Its tokens are kept.`
      : `Enabled account "${checked}": the pool may use it again.`;
  });
}
