/**
 * The isolate side of the Worker's accounts: one coordinator stub, KV copy,
 * `CoordinatedAuth` and rate-limit tracker per account, the registry read
 * from KV on the hot path (and from the default account's object for the
 * admin API), and cooldown reports sent to the account's own object.
 */
import { RateLimitTracker, type RateLimitSnapshot } from "../codex/rate-limits.js";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import type { CredentialStore } from "../credentials/types.js";
import type { PoolMember } from "../pool/account-pool.js";
import type { AccountSummary } from "../pool/types.js";
import type { AdminAccounts } from "../server/routes/admin.js";
import { ACCOUNT_HEADER, coordinatorName, REGISTRY_KEY, usageKey } from "./account-layout.js";
import { parseRegistry, type RegistryEntry } from "./account-registry.js";
import type { AccountUsage, UsageReport } from "./account-usage.js";
import {
  CoordinatedAuth,
  CoordinatedCredentialStore,
  callCoordinator,
  type CoordinatorStub,
  json,
} from "./coordinator-client.js";
import type { DurableObjectNamespaceLike, KvNamespace } from "./env.js";
import { KvCredentialStore } from "./kv-store.js";

/** One account as the pool takes it; its store is the KV copy, which the pool reads for the identity (the admin API uses `storeFor`). */
type WorkerPoolMember = PoolMember & { store: CredentialStore };

/** A stub for one account's object that tells the object which account it is. */
export function accountStub(namespace: DurableObjectNamespaceLike, account: string): CoordinatorStub {
  return () => {
    const stub = namespace.get(namespace.idFromName(coordinatorName(account)));
    return {
      fetch: (input, init = {}) =>
        stub.fetch(input, { ...init, headers: { ...init.headers, [ACCOUNT_HEADER]: account } }),
    };
  };
}

function parseUsage(text: string | null): AccountUsage {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as AccountUsage;
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}

/** An account's usage windows reach its object at most this often per isolate (they change with every answer). */
const WINDOWS_REPORT_INTERVAL_MS = 60_000;

export class WorkerAccounts implements AdminAccounts {
  /** Kept for the isolate's life, so each account's usage windows and auth outlive one request. */
  private readonly members = new Map<string, WorkerPoolMember>();
  private readonly windowsReportedAt = new Map<string, number>();
  /** The registry as the default account's object last answered an admin push here. */
  private registrySeen: RegistryEntry[] | undefined;
  private additions = 0;
  /** Reports still on their way to the objects: the Worker keeps running until they land (`waitUntil`). */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly kv: KvNamespace,
    private readonly namespace: DurableObjectNamespaceLike,
    private readonly authIssuer: string,
  ) {}

  private stub(name: string): CoordinatorStub {
    return accountStub(this.namespace, name);
  }

  member(name: string): WorkerPoolMember {
    let member = this.members.get(name);
    if (!member) {
      const kvCopy = new KvCredentialStore(this.kv, name);
      member = {
        name,
        auth: new CoordinatedAuth(kvCopy, this.stub(name), this.authIssuer),
        store: kvCopy,
        rateLimits: new RateLimitTracker((snapshot) => this.windowsSeen(name, snapshot)),
      };
      this.members.set(name, member);
    }
    return member;
  }

  /**
   * The registry as this location's KV sees it (may lag a new push by up to a minute), or as the
   * default account's object last answered this isolate when that names accounts KV does not show
   * yet (accounts are never removed, so the longer list is the newer). A Worker from before pools
   * has none: its one account is the default one.
   */
  async registryFromKv(): Promise<RegistryEntry[]> {
    const fromKv = parseRegistry(await this.kv.get(REGISTRY_KEY, "text")) ?? [{ name: DEFAULT_ACCOUNT }];
    const seen = this.registrySeen;
    if (seen?.some((entry) => !fromKv.some((known) => known.name === entry.name))) return seen;
    return fromKv;
  }

  /** Grows each time this isolate adds an account, so its pool takes the new one at once. */
  get registryVersion(): number {
    return this.additions;
  }

  /** The enabled accounts, default first: what the pool chooses from. */
  async poolMembers(): Promise<WorkerPoolMember[]> {
    const registry = await this.registryFromKv();
    const enabled = registry.filter((entry) => !entry.disabled).map((entry) => this.member(entry.name));
    return enabled.length > 0 ? enabled : [this.member(DEFAULT_ACCOUNT)];
  }

  /** Cooldowns and windows as the accounts' objects last mirrored them to KV. */
  async usageFromKv(name: string): Promise<AccountUsage> {
    return parseUsage(await this.kv.get(usageKey(name), "text"));
  }

  /** Hands a cooldown (or out-of-rotation) to the account's object, which keeps the later reset. */
  async report(name: string, report: UsageReport): Promise<AccountUsage> {
    const { usage } = await callCoordinator<{ usage: AccountUsage }>(this.stub(name), "/usage", json("POST", report));
    return usage;
  }

  /** Sends a report without holding up the request; `settled()` is what the Worker waits for after answering. */
  reportInBackground(name: string, report: UsageReport, onError: (error: unknown) => void): void {
    const sent = this.report(name, report).catch(onError);
    this.pending.add(sent);
    void sent.finally(() => this.pending.delete(sent));
  }

  settled(): Promise<unknown> {
    return Promise.all([...this.pending]);
  }

  private windowsSeen(name: string, snapshot: RateLimitSnapshot): void {
    const last = this.windowsReportedAt.get(name);
    if (last !== undefined && snapshot.observedAt - last < WINDOWS_REPORT_INTERVAL_MS) return;
    this.windowsReportedAt.set(name, snapshot.observedAt);
    // Windows are a display aid: a report that fails is simply sent again with the next ones.
    this.reportInBackground(name, { rateLimits: snapshot }, () => this.windowsReportedAt.delete(name));
  }

  // The admin API: the objects' strongly consistent copies, never a KV read that may lag.

  storeFor(name: string): CredentialStore {
    return new CoordinatedCredentialStore(this.stub(name));
  }

  async added(name: string): Promise<void> {
    const { accounts } = await callCoordinator<{ accounts: RegistryEntry[] }>(
      this.stub(DEFAULT_ACCOUNT),
      "/registry",
      json("POST", { name }),
    );
    this.registrySeen = accounts;
    this.additions++;
  }

  async registry(): Promise<RegistryEntry[]> {
    const { accounts } = await callCoordinator<{ accounts: RegistryEntry[] }>(this.stub(DEFAULT_ACCOUNT), "/registry");
    return accounts;
  }

  async summaries(): Promise<AccountSummary[]> {
    const registry = await this.registry();
    return Promise.all(
      registry.map(async (entry) => {
        const path = `/summary${entry.disabled ? "?disabled=1" : ""}`;
        const { summary } = await callCoordinator<{ summary: AccountSummary }>(this.stub(entry.name), path);
        return summary;
      }),
    );
  }
}
