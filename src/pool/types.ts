/**
 * The account pool's shared vocabulary: what each account is to the pool,
 * what a strategy decides, and the read-only view that `/v1/usage`, the
 * status page, `accounts --json` and the Worker's admin status show.
 * Platform APIs only: the Worker runs the pool too.
 */
import type { RateLimitSnapshot } from "../codex/rate-limits.js";
import type { PoolStrategyName } from "../core/config.js";

/** Why an account is or is not taking requests right now. */
export type AccountState =
  /** Can serve. */
  | "ready"
  /** At its plan's limit until `cooldownUntil` (from the reset the backend reported). */
  | "cooling_down"
  /** A 5xx or a Cloudflare challenge: left alone for a short while (`cooldownUntil`). */
  | "backing_off"
  /** Switched off with `accounts disable`. */
  | "disabled"
  /** Its refresh chain is dead (spent, revoked, expired): it needs a new login. */
  | "needs_login"
  /** Its plan does not include Codex. */
  | "no_codex"
  /** Its credential file cannot be read. */
  | "unreadable";

/** One account as the pool and its readers see it; never holds a token. */
export interface AccountSummary {
  name: string;
  email?: string;
  plan?: string;
  /** Access-token expiry, epoch ms. */
  expiresAt?: number;
  state: AccountState;
  /** Epoch ms when a cooldown or backoff ends. */
  cooldownUntil?: number;
  /** Why it is not ready, in words (never a token). */
  reason?: string;
  /** The usage windows last seen for this account. */
  rateLimits?: RateLimitSnapshot;
  /** Set when the chain was pushed to a Worker. */
  handedOffTo?: string;
  /** Epoch ms of the last request this account served. */
  lastUsedAt?: number;
}

/** What the pool remembers of an account across restarts (usage.json on Node). */
export interface PersistedAccountUsage {
  rateLimits?: RateLimitSnapshot;
  /** Epoch ms until which the account is at its plan's limit. */
  cooldownUntil?: number;
  cooldownReason?: string;
  /**
   * The backend said this account's plan has no Codex, for the login whose
   * access token expires at `expiresAt` (a new login clears it).
   */
  noCodex?: { reason: string; expiresAt?: number };
}

/** An account a strategy may choose: one that is ready and not yet tried for this request. */
export interface Candidate {
  name: string;
  /** Position in the pool (the default account first). */
  index: number;
  rateLimits?: RateLimitSnapshot;
  /** Epoch ms of the last request it served. */
  lastUsedAt?: number;
}

export type StrategyName = PoolStrategyName;

/** How the pool chooses among ready accounts when no pin or conversation decides. */
export interface Strategy {
  readonly name: StrategyName;
  /**
   * One of `candidates` (never empty, in pool order). `lastPickedIndex` is the
   * pool position of this strategy's previous choice, ready or not.
   */
  pick(candidates: readonly Candidate[], context: { now: number; lastPickedIndex?: number }): Candidate;
}
