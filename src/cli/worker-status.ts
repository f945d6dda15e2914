/** `status --worker-url`: the same views as local status, read from the Worker's admin API, with every account it holds. */
import type { Writable } from "node:stream";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import type { CredentialStatus } from "../credentials/types.js";
import type { AccountSummary } from "../pool/types.js";
import { inWords, renderStatus, unusableReason } from "./format.js";
import { fetchWorkerStatus, normaliseWorkerUrl, resolveAdminKey } from "./worker-client.js";

export interface WorkerStatusOptions {
  workerUrl: string;
  adminKey?: string;
  json?: boolean;
}

/** The `accounts` list of the status answer; a Worker from before pools sends none. */
function accountsOf(status: CredentialStatus): AccountSummary[] {
  const accounts = status.accounts;
  if (!Array.isArray(accounts)) return [];
  return accounts.filter(
    (entry): entry is AccountSummary =>
      typeof (entry as AccountSummary)?.name === "string" && typeof (entry as AccountSummary)?.state === "string",
  );
}

/** One line per account: name, state (and why), plan and email, token expiry, cooldown. */
function renderAccounts(accounts: AccountSummary[], now: number): string {
  const width = Math.max(...accounts.map((account) => account.name.length));
  const lines = [`Accounts on the Worker (${accounts.length}):`];
  for (const account of accounts) {
    const parts = [account.state.replace(/_/g, " ")];
    if (account.cooldownUntil !== undefined && account.cooldownUntil > now)
      parts.push(`until ${new Date(account.cooldownUntil).toLocaleString()} (${inWords(account.cooldownUntil - now)})`);
    if (account.reason && account.state !== "disabled") parts.push(`(${account.reason})`);
    const who = [account.plan, account.email].filter(Boolean).join(", ");
    if (who) parts.push(`— ${who}`);
    if (account.expiresAt !== undefined) parts.push(`— token expires ${inWords(account.expiresAt - now)}`);
    lines.push(`  ${account.name.padEnd(width)}  ${parts.join(" ")}`);
  }
  return lines.join("\n");
}

/**
 * Prints the Worker's status (human or JSON); returns the exit code. With named accounts: 0 while
 * any account can serve. Otherwise as before pools: 0 usable, 1 missing, expired or unrenewable.
 */
export async function readWorkerStatus(
  options: WorkerStatusOptions,
  env: Record<string, string | undefined> = process.env,
  { stdout = process.stdout, now = Date.now() }: { stdout?: Writable; now?: number } = {},
): Promise<number> {
  const url = normaliseWorkerUrl(options.workerUrl);
  const key = await resolveAdminKey(options.adminKey, env);
  const status = await fetchWorkerStatus(url, key);
  const problem = unusableReason(status, now);
  const accounts = accountsOf(status);
  const pooled = accounts.some((account) => account.name !== DEFAULT_ACCOUNT);
  const defaultView = status.hasCredentials
    ? renderStatus(status, now, { source: url, problem })
    : pooled
      ? `The Worker at ${url} has no default account; its named accounts follow.`
      : `No credentials in the Worker at ${url}. Give it a login: \`codex-proxy push-credentials --worker-url ${url}\` (or add --login).`;
  const human = pooled ? `${defaultView}\n${renderAccounts(accounts, now)}` : defaultView;
  stdout.write(`${options.json ? JSON.stringify(status, null, 2) : human}\n`);
  if (pooled) return accounts.some((account) => account.state === "ready") ? 0 : 1;
  return status.hasCredentials && !status.isExpired && !problem ? 0 : 1;
}
