/**
 * The account pool: chooses the account for each request and fails over to
 * another one, before the first byte reaches the client, when an account has
 * reached its plan's limit, lost its login, or its backend answers fail.
 *
 * Order of choice: a pin (`X-Codex-Account`) > the account the conversation
 * already uses (sticky for an hour of idleness, so the upstream prompt cache
 * keeps hitting) > the strategy among ready accounts.
 *
 * With one account the pool only keeps its state for `/v1/usage` and the
 * status page: that account is always tried and every error reaches the
 * client as it did before pools existed.
 *
 * Platform APIs only: the Worker runs the pool too.
 */
import type { RateLimitTracker } from "../codex/rate-limits.js";
import { ProxyError } from "../core/errors.js";
import type { Logger } from "../core/logging.js";
import { formatDuration } from "../core/time.js";
import type { AuthProvider, CredentialStore, StoredCredentials } from "../credentials/types.js";
import { accountCooling, poolExhausted, unknownAccount } from "./pool-errors.js";
import { RecentRequests } from "./recent-requests.js";
import { STRATEGIES } from "./strategies/index.js";
import type {
  AccountState,
  AccountSummary,
  Candidate,
  PersistedAccountUsage,
  Strategy,
  StrategyName,
} from "./types.js";

/** One account of the pool: its token source, its credential store (for its identity) and its usage windows. */
export interface PoolMember {
  name: string;
  auth: AuthProvider;
  /** Where its credentials live; absent for credentials from the environment or a test's fixed token. */
  store?: CredentialStore;
  rateLimits: RateLimitTracker;
}

export interface AccountPoolOptions {
  /** The accounts, the default one first. At least one. */
  members: PoolMember[];
  /** A strategy or its name; `most-room` when absent. */
  strategy?: Strategy | StrategyName;
  now?: () => number;
  logger: Logger;
  /** Called when an account's cooldown starts, grows or ends, with what should be persisted for it. */
  onChange?: (name: string, usage: PersistedAccountUsage) => void;
}

/** How a request wants its account chosen. */
export interface Selection {
  /** The account named by the request's `X-Codex-Account` header. */
  pin?: string;
  /** The conversation key (prompt_cache_key, session header, first-turn hash). */
  conversation?: string;
  /**
   * A request of the proxy's own (the model catalogue): it fails over like any
   * other but does not count as a turn or a use for the strategy.
   */
  background?: boolean;
}

/** A conversation stays on its account while it is idle less than this. */
const STICKY_IDLE_MS = 60 * 60_000;
/** A 5xx or a Cloudflare challenge: the account is left alone this long, doubling per failure up to the cap. */
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 5 * 60_000;
/** A usage limit whose reset time the backend did not say: try the account again after this. */
const UNKNOWN_RESET_MS = 5 * 60_000;
/** Credential files are read again at most this often for identity, `disabled` and a new login. */
const INFO_REFRESH_MS = 5_000;
const MAX_CONVERSATIONS = 10_000;

/** Errors that say the account's login is dead: it needs `codex-proxy login` again. */
const NEEDS_LOGIN_CODES = new Set([
  "refresh_failed",
  "token_expired",
  "handed_off",
  "invalid_credentials",
  "missing_credentials",
]);

interface AccountRecord {
  member: PoolMember;
  index: number;
  /** Usage limit: until when, and why in words. */
  cooldownUntil?: number;
  cooldownReason?: string;
  /** 5xx / Cloudflare: until when, and how many in a row. */
  backoffUntil?: number;
  backoffFailures: number;
  backoffReason?: string;
  /** Out of rotation until the credentials change (a new login). */
  out?: { state: "needs_login" | "no_codex" | "unreadable"; reason: string; credentialsMark?: string };
  lastUsedAt?: number;
  info?: StoredCredentials;
  infoReadAt?: number;
}

/** Marks a login, so that a new one (or a refresh) can be told apart without keeping a token. */
function markOf(credentials: StoredCredentials | undefined): string | undefined {
  return credentials ? `${credentials.expiresAt}:${credentials.lastRefresh ?? ""}` : undefined;
}

export class AccountPool {
  readonly strategy: Strategy;
  /** The last requests (no content), for `GET /v1/pool` and the status page. */
  readonly recent = new RecentRequests();
  private readonly records: AccountRecord[];
  private readonly byName = new Map<string, AccountRecord>();
  private readonly conversations = new Map<string, { name: string; lastUsedAt: number }>();
  private readonly now: () => number;
  private readonly logger: Logger;
  private lastPickedIndex: number | undefined;

  constructor(private readonly options: AccountPoolOptions) {
    if (options.members.length === 0) throw new Error("An account pool needs at least one account.");
    this.strategy =
      typeof options.strategy === "string"
        ? STRATEGIES[options.strategy]
        : (options.strategy ?? STRATEGIES["most-room"]);
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.records = options.members.map((member, index) => ({ member, index, backoffFailures: 0 }));
    for (const record of this.records) {
      if (this.byName.has(record.member.name)) throw new Error(`Account "${record.member.name}" is in the pool twice.`);
      this.byName.set(record.member.name, record);
    }
  }

  /** The accounts in pool order (the default first). */
  get members(): readonly PoolMember[] {
    return this.records.map((record) => record.member);
  }

  /** The first account: the one `/v1/usage`'s top-level windows and the health check describe. */
  get defaultMember(): PoolMember {
    return this.records[0]!.member;
  }

  /** Adds an account logged in while the pool runs (serve watches for new ones); a known name is ignored. */
  add(member: PoolMember): void {
    if (this.byName.has(member.name)) return;
    const record: AccountRecord = { member, index: this.records.length, backoffFailures: 0 };
    this.records.push(record);
    this.byName.set(member.name, record);
  }

  member(name: string): PoolMember | undefined {
    return this.byName.get(name)?.member;
  }

  /** Puts back what was persisted (usage.json): a cooldown still running and the last usage windows. */
  restore(name: string, usage: PersistedAccountUsage): void {
    const record = this.byName.get(name);
    if (!record) return;
    if (usage.rateLimits) record.member.rateLimits.restore(usage.rateLimits);
    if (usage.cooldownUntil !== undefined && usage.cooldownUntil > this.now()) {
      record.cooldownUntil = usage.cooldownUntil;
      record.cooldownReason = usage.cooldownReason;
    }
  }

  /** What to persist for `name`: its usage windows and a cooldown still running. */
  usageOf(name: string): PersistedAccountUsage {
    const record = this.byName.get(name);
    if (!record) return {};
    const cooling = record.cooldownUntil !== undefined && record.cooldownUntil > this.now();
    const noCodex = record.out?.state === "no_codex";
    return {
      rateLimits: record.member.rateLimits.snapshot,
      ...(cooling ? { cooldownUntil: record.cooldownUntil, cooldownReason: record.cooldownReason } : {}),
      ...(noCodex ? { noCodex: { reason: record.out!.reason, expiresAt: record.info?.expiresAt } } : {}),
    };
  }

  /**
   * Runs `attempt` on the chosen account; on a usage limit, a dead login, a
   * plan without Codex, a 5xx or a Cloudflare challenge, runs it again on the
   * next account. `attempt` must not have sent anything to the client when it
   * throws. Throws a 400 for an unknown pin, and a 429 with the earliest reset
   * when every account is at its limit.
   */
  async run<T>(selection: Selection, attempt: (member: PoolMember) => Promise<T>): Promise<T> {
    const single = this.records.length === 1;
    // One account is always tried: its credentials need not be read again here.
    if (!single) await this.refreshInfo();
    if (selection.pin !== undefined) return this.runPinned(this.pinned(selection.pin), attempt);
    if (single) return this.runOnce(this.records[0]!, selection, attempt);

    const tried = new Set<AccountRecord>();
    let lastError: unknown;
    let previous: AccountRecord | undefined;
    for (;;) {
      const record = this.choose(selection, tried, !selection.background);
      if (!record) throw this.nothingLeft(lastError);
      if (previous && lastError) this.logFailover(previous, record, lastError);
      tried.add(record);
      try {
        return await this.runOnce(record, selection, attempt);
      } catch (error) {
        if (!this.isFailover(error)) throw error;
        lastError = error;
        previous = record;
      }
    }
  }

  /** The account a request would use now, without using it (the Codex usage endpoints answer for it). */
  async preview(selection: Selection): Promise<PoolMember> {
    if (this.records.length > 1) await this.refreshInfo();
    if (selection.pin !== undefined) return this.pinned(selection.pin).member;
    return (
      (this.records.length === 1 ? undefined : this.choose(selection, new Set(), false))?.member ?? this.defaultMember
    );
  }

  /** Every account as `/v1/usage`, `/v1/pool` and the status page show it. Never a token. */
  async summaries(): Promise<AccountSummary[]> {
    await this.refreshInfo(true);
    return this.records.map((record) => this.summaryOf(record));
  }

  // -------------------------------------------------------------------------

  private pinned(name: string): AccountRecord {
    const record = this.byName.get(name.trim());
    if (!record) throw unknownAccount(name, [...this.byName.keys()]);
    return record;
  }

  private async runPinned<T>(record: AccountRecord, attempt: (member: PoolMember) => Promise<T>): Promise<T> {
    const now = this.now();
    if (this.records.length > 1 && record.cooldownUntil !== undefined && record.cooldownUntil > now)
      throw accountCooling(record.member.name, record.cooldownUntil, now);
    return this.runOnce(record, {}, attempt);
  }

  private async runOnce<T>(
    record: AccountRecord,
    selection: Selection,
    attempt: (member: PoolMember) => Promise<T>,
  ): Promise<T> {
    try {
      const value = await attempt(record.member);
      this.succeeded(record, selection);
      return value;
    } catch (error) {
      this.failed(record, error);
      throw error;
    }
  }

  private isFailover(error: unknown): boolean {
    if (!(error instanceof ProxyError)) return false;
    if (error.code === "usage_limit_reached" || error.type === "usage_limit_reached") return true;
    if (error.code === "usage_not_included" || error.code === "credentials_unreadable") return true;
    if (error.code && NEEDS_LOGIN_CODES.has(error.code)) return true;
    return isBackoffError(error);
  }

  private succeeded(record: AccountRecord, selection: Selection): void {
    const now = this.now();
    const conversation = selection.conversation;
    if (!selection.background) record.lastUsedAt = now;
    record.backoffFailures = 0;
    record.backoffUntil = undefined;
    record.backoffReason = undefined;
    this.clearOut(record);
    // With one account there is nothing to stick to: no binding kept per conversation.
    if (conversation && this.records.length > 1) {
      this.conversations.delete(conversation); // re-inserted last: the map stays in idle order
      this.conversations.set(conversation, { name: record.member.name, lastUsedAt: now });
      this.pruneConversations(now);
    }
  }

  /** Records what an error says about the account (whether or not the request fails over). */
  private failed(record: AccountRecord, error: unknown): void {
    if (!(error instanceof ProxyError)) return;
    const now = this.now();
    if (error.code === "usage_limit_reached" || error.type === "usage_limit_reached") {
      const resetsAt = typeof error.extra.resets_at === "number" ? error.extra.resets_at * 1000 : undefined;
      const until = resetsAt !== undefined && resetsAt > now ? resetsAt : now + UNKNOWN_RESET_MS;
      // Never shorten a cooldown that is already running: keep the later reset.
      if (record.cooldownUntil === undefined || until > record.cooldownUntil || record.cooldownUntil <= now) {
        record.cooldownUntil = until;
        record.cooldownReason = `usage limit reached; resets at ${new Date(until).toISOString()}`;
        this.options.onChange?.(record.member.name, this.usageOf(record.member.name));
      }
      return;
    }
    const mark = markOf(record.info);
    if (error.code === "usage_not_included") {
      record.out = { state: "no_codex", reason: "its ChatGPT plan does not include Codex", credentialsMark: mark };
      void this.saveNoCodex(record);
    } else if (error.code === "credentials_unreadable") {
      record.out = { state: "unreadable", reason: "its credential file cannot be read", credentialsMark: mark };
    } else if (error.code && NEEDS_LOGIN_CODES.has(error.code)) {
      record.out = { state: "needs_login", reason: `${error.message}`, credentialsMark: mark };
    } else if (isBackoffError(error)) {
      record.backoffFailures++;
      const delay = Math.min(BACKOFF_BASE_MS * 2 ** (record.backoffFailures - 1), BACKOFF_MAX_MS);
      record.backoffUntil = now + delay;
      record.backoffReason = `${error.code ?? `HTTP ${error.status}`}; trying again after ${formatDuration(delay)}`;
    }
  }

  /** The account for the next try, or undefined when none is left. */
  private choose(selection: Selection, tried: Set<AccountRecord>, remember = true): AccountRecord | undefined {
    const now = this.now();
    const usable = this.records.filter((record) => !tried.has(record) && this.stateOf(record, now) === "ready");
    const conversation = selection.conversation ? this.conversations.get(selection.conversation) : undefined;
    if (conversation && now - conversation.lastUsedAt < STICKY_IDLE_MS) {
      const bound = usable.find((record) => record.member.name === conversation.name);
      if (bound) return bound;
    }
    let pool = usable;
    // Only backing-off accounts left: a short backoff is a preference, not a ban.
    if (pool.length === 0)
      pool = this.records
        .filter((record) => !tried.has(record) && this.stateOf(record, now) === "backing_off")
        .sort((a, b) => (a.backoffUntil ?? 0) - (b.backoffUntil ?? 0))
        .slice(0, 1);
    if (pool.length === 0) return undefined;
    const candidates: Candidate[] = pool.map((record) => ({
      name: record.member.name,
      index: record.index,
      rateLimits: record.member.rateLimits.snapshot,
      lastUsedAt: record.lastUsedAt,
    }));
    const picked = this.strategy.pick(candidates, { now, lastPickedIndex: this.lastPickedIndex });
    if (remember) this.lastPickedIndex = picked.index;
    return this.byName.get(picked.name);
  }

  /** The error when no account is left to try. */
  private nothingLeft(lastError: unknown): ProxyError {
    const now = this.now();
    // A 5xx or a challenge on the last account: the client gets that error, not a 429.
    if (lastError instanceof ProxyError && isBackoffError(lastError)) return lastError;
    // The others are at their limits or out of rotation: the client waits for the earliest reset.
    const cooling = this.records.filter((record) => this.stateOf(record, now) === "cooling_down");
    if (cooling.length > 0) {
      const earliest = Math.min(...cooling.map((record) => record.cooldownUntil!));
      return poolExhausted(this.records.length, earliest, now);
    }
    if (lastError instanceof ProxyError) return lastError;
    const reasons = this.records
      .map((record) => `"${record.member.name}": ${this.summaryOf(record).reason ?? this.stateOf(record, now)}`)
      .join("; ");
    return new ProxyError(503, `No account of the pool can serve requests now (${reasons}).`, {
      type: "server_error",
      code: "no_account_available",
    });
  }

  private logFailover(from: AccountRecord, to: AccountRecord, error: unknown): void {
    const name = from.member.name;
    const next = to.member.name;
    if (from.cooldownUntil !== undefined && from.cooldownUntil > this.now()) {
      const resets = new Date(from.cooldownUntil).toISOString();
      this.logger.warn(`account "${name}" reached its usage limit (resets ${resets}); retrying on "${next}"`, {
        account: name,
        next,
      });
      return;
    }
    const code = error instanceof ProxyError ? (error.code ?? error.type) : "error";
    this.logger.warn(`account "${name}" failed (${code}); retrying on "${next}"`, { account: name, next, code });
  }

  private stateOf(record: AccountRecord, now: number): AccountState {
    if (record.info?.disabled) return "disabled";
    if (record.out) return record.out.state;
    if (record.cooldownUntil !== undefined && record.cooldownUntil > now) return "cooling_down";
    if (record.backoffUntil !== undefined && record.backoffUntil > now) return "backing_off";
    return "ready";
  }

  private summaryOf(record: AccountRecord): AccountSummary {
    const now = this.now();
    const state = this.stateOf(record, now);
    const info = record.info;
    const summary: AccountSummary = { name: record.member.name, state };
    if (info?.email) summary.email = info.email;
    if (info?.plan) summary.plan = info.plan;
    if (info?.expiresAt !== undefined) summary.expiresAt = info.expiresAt;
    if (info?.handedOffTo) summary.handedOffTo = info.handedOffTo;
    if (state === "cooling_down") {
      summary.cooldownUntil = record.cooldownUntil;
      summary.reason = record.cooldownReason;
    } else if (state === "backing_off") {
      summary.cooldownUntil = record.backoffUntil;
      summary.reason = record.backoffReason;
    } else if (state === "disabled") {
      summary.reason = "disabled with `codex-proxy accounts disable`";
    } else if (record.out) {
      summary.reason = record.out.reason;
    }
    const rateLimits = record.member.rateLimits.snapshot;
    if (rateLimits) summary.rateLimits = rateLimits;
    if (record.lastUsedAt !== undefined) summary.lastUsedAt = record.lastUsedAt;
    return summary;
  }

  /**
   * Reads each account's credentials again (at most every few seconds): its
   * identity for the summaries, `disabled`, and a new login that puts an
   * account out of rotation back in.
   */
  private async refreshInfo(force = false): Promise<void> {
    const now = this.now();
    await Promise.all(
      this.records.map(async (record) => {
        const store = record.member.store;
        if (!store) return;
        if (!force && record.infoReadAt !== undefined && now - record.infoReadAt < INFO_REFRESH_MS) return;
        record.infoReadAt = now;
        try {
          record.info = await store.get();
        } catch {
          record.info = undefined;
          return;
        }
        if (record.out && markOf(record.info) !== record.out.credentialsMark) this.clearOut(record);
      }),
    );
  }

  /**
   * Saves "no Codex" with the login it was said of, so that `accounts` and
   * `status` can say why the account is out. A one-account pool has not read
   * its credentials yet: it reads them now.
   */
  private async saveNoCodex(record: AccountRecord): Promise<void> {
    const out = record.out;
    if (!record.info && record.member.store) {
      record.info = await record.member.store.get().catch(() => undefined);
      record.infoReadAt = this.now();
      if (out && out.credentialsMark === undefined) out.credentialsMark = markOf(record.info);
    }
    if (record.out === out) this.options.onChange?.(record.member.name, this.usageOf(record.member.name));
  }

  /** Back in rotation; a saved "no Codex" is forgotten too. */
  private clearOut(record: AccountRecord): void {
    const saved = record.out?.state === "no_codex";
    record.out = undefined;
    if (saved) this.options.onChange?.(record.member.name, this.usageOf(record.member.name));
  }

  private pruneConversations(now: number): void {
    for (const [key, binding] of this.conversations) {
      if (this.conversations.size <= MAX_CONVERSATIONS && now - binding.lastUsedAt < STICKY_IDLE_MS) break;
      this.conversations.delete(key);
    }
  }
}

/** A 5xx (after the client's own retries) or a Cloudflare challenge: worth a short backoff and another account. */
function isBackoffError(error: ProxyError): boolean {
  if (error.code === "cloudflare_challenge") return true;
  return error.status >= 500 && error.code !== "internal_error" && error.code !== "client_closed";
}
