/**
 * What `accounts` and `status` know of each account from the files alone
 * (the credential files and usage.json), in the pool's read-only view,
 * AccountSummary. A file that cannot be read is one `unreadable` entry with
 * its path, never an error that hides the other accounts.
 */
import { windowsOf } from "../codex/rate-limits.js";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import { credentialStatus, type StoredCredentials } from "../credentials/types.js";
import type { NodeAccountDirectory } from "../node/account-directory.js";
import type { AccountUsage, UsageFileStore } from "../node/usage-store.js";
import type { AccountSummary } from "../pool/types.js";
import { unusableReason } from "./format.js";

/** One account as read from disk: its summary, where it lives, and its credentials when readable. */
export interface AccountReading {
  summary: AccountSummary & { path: string };
  credentials?: StoredCredentials;
}

function stateOf(
  credentials: StoredCredentials,
  usage: AccountUsage | undefined,
  now: number,
): Pick<AccountSummary, "state" | "reason"> {
  if (credentials.disabled) return { state: "disabled", reason: "disabled with `codex-proxy accounts disable`" };
  const status = credentialStatus(credentials, now);
  const unusable = unusableReason(status, now, Boolean(credentials.refreshToken));
  if (unusable) return { state: "needs_login", reason: unusable };
  if (credentials.handedOffTo && status.hasCredentials && status.isExpired)
    return {
      state: "needs_login",
      reason: `the chain was handed off to ${credentials.handedOffTo} and the local access token has expired`,
    };
  // Said of this login only: a new login (another expiry) may have another plan.
  if (usage?.noCodex && usage.noCodex.expiresAt === credentials.expiresAt)
    return { state: "no_codex", reason: usage.noCodex.reason };
  if (usage?.cooldownUntil !== undefined && usage.cooldownUntil > now)
    return { state: "cooling_down", reason: usage.cooldownReason ?? "reached its usage limit" };
  return { state: "ready" };
}

/** The summary of one stored account (no token in it). */
function summarise(
  name: string,
  path: string,
  credentials: StoredCredentials,
  usage: AccountUsage | undefined,
  now: number,
): AccountSummary & { path: string } {
  const summary: AccountSummary & { path: string } = { name, path, ...stateOf(credentials, usage, now) };
  if (credentials.email) summary.email = credentials.email;
  if (credentials.plan) summary.plan = credentials.plan;
  if (Number.isFinite(credentials.expiresAt)) summary.expiresAt = credentials.expiresAt;
  if (usage?.cooldownUntil !== undefined && usage.cooldownUntil > now) summary.cooldownUntil = usage.cooldownUntil;
  // A snapshot saved by an older version (windows by slot) is shown in the current shape.
  if (usage?.rateLimits) summary.rateLimits = { ...usage.rateLimits, windows: windowsOf(usage.rateLimits) };
  if (credentials.handedOffTo) summary.handedOffTo = credentials.handedOffTo;
  return summary;
}

/** Every account with a file, `default` first (only when it holds credentials), read fresh. */
export async function readAccounts(
  directory: NodeAccountDirectory,
  usageStore: UsageFileStore,
  now: number,
): Promise<AccountReading[]> {
  const usage = await usageStore.all();
  const readings: AccountReading[] = [];
  for (const name of directory.names()) {
    const path = directory.pathOf(name);
    try {
      const credentials = await directory.open(name).get();
      if (!credentials) continue;
      readings.push({ summary: summarise(name, path, credentials, usage[name], now), credentials });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // The store's own words say why (never the content); the way out differs per account.
      const why = /cannot be read \(([^)]*)\)/.exec(message)?.[1] ?? "unknown error";
      const removal = name === DEFAULT_ACCOUNT ? "codex-proxy logout" : `codex-proxy accounts remove ${name}`;
      readings.push({
        summary: {
          name,
          path,
          state: "unreadable",
          reason: `cannot read ${path} (${why}); it was left untouched: fix it, or remove it with \`${removal}\``,
        },
      });
    }
  }
  return readings;
}
