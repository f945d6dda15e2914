/**
 * What the pool last saw of each account, in its own file beside the
 * credentials: `usage.json`, mode 0600, written atomically. It holds the
 * usage windows (for `status`, `accounts` and `/v1/usage`) and any cooldown
 * (so that a restart does not send requests to an account known to be at
 * its limit). Kept apart so that saving usage never rewrites a credential
 * file — a rewrite outside the credential lock could put back a refresh
 * token another process had just rotated. Losing usage data is harmless, so
 * an unreadable file is simply started afresh.
 *
 * Shape: `{ "accounts": { "<name>": AccountUsage } }`. A file written before
 * pools existed (`{ "rateLimits": … }`) is read as the default account's and
 * rewritten in the new shape at the next save.
 */
import Conf from "conf";
import type { RateLimitSnapshot } from "../codex/rate-limits.js";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";

export interface AccountUsage {
  rateLimits?: RateLimitSnapshot;
  /** Epoch ms until which the account is at its plan's limit. */
  cooldownUntil?: number;
  /** Why it cools down, in words for `accounts` and `status` (never a token). */
  cooldownReason?: string;
  /** The backend said the plan has no Codex, for the login whose access token expires at `expiresAt`. */
  noCodex?: { reason: string; expiresAt?: number };
}

interface UsageShape {
  accounts?: Record<string, AccountUsage>;
  /** Before pools: the one account's windows. */
  rateLimits?: RateLimitSnapshot;
}

function accountsOf(shape: UsageShape): Record<string, AccountUsage> {
  const accounts = { ...(shape.accounts ?? {}) };
  if (shape.rateLimits && !accounts[DEFAULT_ACCOUNT]) accounts[DEFAULT_ACCOUNT] = { rateLimits: shape.rateLimits };
  return accounts;
}

export class UsageFileStore {
  /** Absent when the file cannot be opened at all (e.g. a directory in its place): usage is then not kept. */
  private readonly conf: Conf<UsageShape> | undefined;

  constructor(options: { cwd?: string } = {}) {
    try {
      this.conf = new Conf<UsageShape>({
        projectName: "codex-proxy",
        configName: "usage",
        cwd: options.cwd,
        configFileMode: 0o600,
        clearInvalidConfig: true,
        accessPropertiesByDotNotation: false,
      });
    } catch {
      this.conf = undefined;
    }
  }

  /** Every account's usage, by name. */
  async all(): Promise<Record<string, AccountUsage>> {
    try {
      return this.conf ? accountsOf(this.conf.store) : {};
    } catch {
      return {};
    }
  }

  async get(name: string = DEFAULT_ACCOUNT): Promise<AccountUsage | undefined> {
    return (await this.all())[name];
  }

  /** Replaces one account's entry, keeping the others; writes the current shape. */
  async set(name: string, usage: AccountUsage): Promise<void> {
    if (!this.conf) return;
    const accounts = await this.all();
    accounts[name] = JSON.parse(JSON.stringify(usage)) as AccountUsage;
    this.conf.store = { accounts };
  }

  /** Forgets an account (after `accounts remove`), or moves its entry (after `accounts rename`). */
  async move(from: string, to: string | undefined): Promise<void> {
    if (!this.conf) return;
    const accounts = await this.all();
    const entry = accounts[from];
    delete accounts[from];
    if (to && entry) accounts[to] = entry;
    this.conf.store = { accounts };
  }
}
