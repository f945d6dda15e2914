/**
 * The account pool on the Worker. Each isolate runs its own `AccountPool`
 * over the accounts of the registry (its KV copy, read again every few
 * seconds; a changed list builds a new pool). The accounts' Durable Objects
 * stay the owners of every cooldown: one this isolate meets is reported to
 * the account's object (which keeps the later reset and copies it to KV),
 * and cooldowns other isolates met are read back from KV, so every isolate
 * skips an account at its limit.
 */
import type { Logger } from "../core/logging.js";
import { AccountPool } from "../pool/account-pool.js";
import type { PersistedAccountUsage, StrategyName } from "../pool/types.js";
import type { WorkerAccounts } from "./worker-accounts.js";
import type { UsageReport } from "./account-usage.js";

/** How stale this isolate's view of the registry may be (beyond KV's own lag). */
const REGISTRY_TTL_MS = 10_000;
/** How often the other isolates' cooldowns are read back from KV. */
const COOLDOWNS_TTL_MS = 5_000;

export interface WorkerPoolsOptions {
  strategy?: StrategyName;
  logger: Logger;
  now?: () => number;
}

export class WorkerPools {
  private pool: AccountPool | undefined;
  private names = "";
  private registryReadAt = Number.NEGATIVE_INFINITY;
  /** The accounts' registry version this pool was built from: an account added here is taken at once. */
  private registryVersion = 0;
  private cooldownsReadAt = Number.NEGATIVE_INFINITY;
  /** The read of the registry and cooldowns in progress, which concurrent requests wait for. */
  private refreshing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly accounts: WorkerAccounts,
    private readonly options: WorkerPoolsOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The pool for this request: the registry's enabled accounts, with the cooldowns every isolate has met.
   * Requests that arrive while the view is being read wait for it, so none is served from the older one.
   */
  async current(): Promise<AccountPool> {
    for (;;) {
      if (this.refreshing) {
        try {
          await this.refreshing;
        } catch (error) {
          // KV unreadable for a moment: the view this isolate has serves until the next read.
          if (!this.pool) throw error;
          this.options.logger.warn("could not read the list of accounts", { error: String(error) });
        }
      }
      const now = this.now();
      const version = this.accounts.registryVersion;
      const registryDue =
        !this.pool || now - this.registryReadAt >= REGISTRY_TTL_MS || version !== this.registryVersion;
      // One account is always tried, as before pools: no cooldown to read.
      const cooldownsDue =
        this.pool !== undefined && this.pool.members.length > 1 && now - this.cooldownsReadAt >= COOLDOWNS_TTL_MS;
      if (this.pool && !registryDue && !cooldownsDue) return this.pool;
      this.refreshing = this.refresh(now, version, registryDue).finally(() => {
        this.refreshing = undefined;
      });
    }
  }

  private async refresh(now: number, version: number, registryDue: boolean): Promise<void> {
    if (registryDue) {
      this.registryReadAt = now;
      this.registryVersion = version;
      const members = await this.accounts.poolMembers();
      const names = members.map((member) => member.name).join("\n");
      if (!this.pool || names !== this.names) {
        // The members (their tokens and usage windows) are the isolate's own and outlive the rebuild.
        this.pool = new AccountPool({
          members,
          strategy: this.options.strategy,
          now: this.now,
          logger: this.options.logger,
          onChange: (name, usage) => this.usageMet(name, usage),
        });
        this.names = names;
        this.cooldownsReadAt = Number.NEGATIVE_INFINITY;
      }
    }
    const pool = this.pool;
    if (pool && pool.members.length > 1 && now - this.cooldownsReadAt >= COOLDOWNS_TTL_MS) {
      this.cooldownsReadAt = now;
      await this.adoptCooldowns(pool, now);
    }
  }

  /**
   * Takes the cooldowns other isolates reported, where they end later than what this isolate knows,
   * and the last usage windows of accounts this isolate has not used yet.
   */
  private async adoptCooldowns(pool: AccountPool, now: number): Promise<void> {
    await Promise.all(
      pool.members.map(async ({ name, rateLimits }) => {
        try {
          const usage = await this.accounts.usageFromKv(name);
          const known = pool.usageOf(name).cooldownUntil ?? now;
          if (
            usage.cooldownState === "cooling_down" &&
            usage.cooldownUntil !== undefined &&
            usage.cooldownUntil > known
          )
            pool.restore(name, { cooldownUntil: usage.cooldownUntil, cooldownReason: usage.cooldownReason });
          if (!rateLimits.snapshot && usage.rateLimits) pool.restore(name, { rateLimits: usage.rateLimits });
        } catch (error) {
          // KV unreadable for a moment: this isolate's own view serves until the next read.
          this.options.logger.warn("could not read an account's cooldown", { account: name, error: String(error) });
        }
      }),
    );
  }

  /** What this isolate met goes to the account's object: a cooldown (never shortened there), or a plan without Codex. */
  private usageMet(name: string, usage: PersistedAccountUsage): void {
    const report: UsageReport | undefined = usage.noCodex
      ? { state: "no_codex", reason: usage.noCodex.reason, rateLimits: usage.rateLimits }
      : usage.cooldownUntil !== undefined
        ? {
            state: "cooling_down",
            until: usage.cooldownUntil,
            reason: usage.cooldownReason,
            rateLimits: usage.rateLimits,
          }
        : undefined;
    if (!report) return;
    this.accounts.reportInBackground(name, report, (error) =>
      this.options.logger.warn("could not record what an account met in its Durable Object", {
        account: name,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
}
