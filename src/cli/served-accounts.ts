/**
 * The accounts `serve` runs on: one token manager, keep-fresh timer and
 * usage record per account, gathered into the pool. An account logged in
 * with `login --name` while serve runs joins the pool within seconds; one
 * removed meanwhile stops serving (its store is empty) and the pool says so.
 */
import type { ProxyConfig } from "../core/config.js";
import { type Logger, withFields } from "../core/logging.js";
import { RateLimitTracker } from "../codex/rate-limits.js";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";
import { TokenManager } from "../credentials/token-manager.js";
import type { CredentialStore } from "../credentials/types.js";
import type { NodeAccountDirectory } from "../node/account-directory.js";
import type { UsageFileStore } from "../node/usage-store.js";
import { AccountPool, type PoolMember } from "../pool/account-pool.js";

/** How often the account directory is looked at for new accounts (a directory listing, no file read). */
const NEW_ACCOUNT_CHECK_MS = 5_000;
/** A background refresh check per account, so that an idle proxy still holds live chains. */
const KEEP_FRESH_MS = 10 * 60_000;
/** Usage windows are saved at most this often per account (cooldowns at once). */
const USAGE_SAVE_MS = 10_000;

interface Account {
  name: string;
  store: CredentialStore;
}

export interface ServedAccountsDeps {
  config: ProxyConfig;
  logger: Logger;
  now: () => number;
  usage: UsageFileStore;
  /** Where stored accounts live; absent when ACCESS_TOKEN from the environment is the one account. */
  directory?: NodeAccountDirectory;
  /** What a dead chain tells the user to do, by account. */
  reloginHint: (name: string) => string;
}

function persistAtMostEvery(intervalMs: number, now: () => number, save: () => void) {
  let lastSaved = 0;
  return () => {
    if (now() - lastSaved < intervalMs) return;
    lastSaved = now();
    save();
  };
}

/** Every stored account (disabled ones too: the pool shows them and leaves them out). */
async function storedAccounts(directory: NodeAccountDirectory, skip: ReadonlySet<string>): Promise<Account[]> {
  const listed: Account[] = [];
  for (const name of directory.names()) {
    if (skip.has(name)) continue;
    const store = directory.open(name);
    // An unreadable file is still an account: the pool says why it cannot serve.
    const present = await store.get().then(
      (credentials) => credentials !== undefined,
      () => true,
    );
    if (present) listed.push({ name, store });
  }
  return listed;
}

export class ServedAccounts {
  readonly pool: AccountPool;
  private readonly managers: TokenManager[] = [];
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  /** One save at a time: each rewrites the whole file from what it read. */
  private saving = Promise.resolve();

  private constructor(
    private readonly deps: ServedAccountsDeps,
    accounts: Account[],
  ) {
    const members = accounts.map((account) => this.member(account, accounts.length > 1));
    this.pool = new AccountPool({
      members,
      strategy: deps.config.poolStrategy,
      now: deps.now,
      logger: deps.logger,
      onChange: (name) => this.save(name),
    });
  }

  /** The pool over `fixed` (ACCESS_TOKEN), or over every stored account (`default` when none). */
  static async open(deps: ServedAccountsDeps, fixed?: CredentialStore): Promise<ServedAccounts> {
    const directory = deps.directory;
    let accounts: Account[] = [];
    if (fixed) accounts = [{ name: DEFAULT_ACCOUNT, store: fixed }];
    else if (directory) accounts = await storedAccounts(directory, new Set());
    if (accounts.length === 0 && directory) accounts = [{ name: DEFAULT_ACCOUNT, store: directory.defaultStore }];
    const served = new ServedAccounts(deps, accounts);
    const saved = await deps.usage.all();
    for (const { name } of accounts) if (saved[name]) served.pool.restore(name, saved[name]);
    for (const auth of served.managers) served.keepFresh(auth);
    if (!fixed && directory) served.watchForNewAccounts(directory);
    return served;
  }

  private member(account: Account, several: boolean): PoolMember {
    const { config, logger, now } = this.deps;
    const auth = new TokenManager({
      store: account.store,
      issuer: config.authIssuer,
      fetch: globalThis.fetch.bind(globalThis),
      now,
      // With several accounts, the token manager's lines name the account they are about.
      logger: several ? withFields(logger, { account: account.name }) : logger,
      reloginHint: this.deps.reloginHint(account.name),
    });
    this.managers.push(auth);
    const rateLimits = new RateLimitTracker(persistAtMostEvery(USAGE_SAVE_MS, now, () => this.save(account.name)));
    return { name: account.name, auth, store: account.store, rateLimits };
  }

  private save(name: string): void {
    this.saving = this.saving.then(() => this.deps.usage.set(name, this.pool.usageOf(name))).catch(() => {});
  }

  /** Refreshes ahead of expiry even when no request comes; errors are already logged by the token manager. */
  private keepFresh(auth: TokenManager): void {
    const timer = setInterval(() => {
      auth.getAuth().catch((error: unknown) =>
        this.deps.logger.debug("background refresh check failed", {
          reason: error instanceof Error ? error.message : "unknown",
        }),
      );
    }, KEEP_FRESH_MS);
    timer.unref();
    this.timers.push(timer);
  }

  private watchForNewAccounts(directory: NodeAccountDirectory): void {
    let checking = false;
    const timer = setInterval(() => {
      if (checking) return;
      checking = true;
      void this.adoptNewAccounts(directory).finally(() => {
        checking = false;
      });
    }, NEW_ACCOUNT_CHECK_MS);
    timer.unref();
    this.timers.push(timer);
  }

  /** Adds the accounts logged in since the pool was built; returns their names. */
  async adoptNewAccounts(directory: NodeAccountDirectory): Promise<string[]> {
    const known = new Set(this.pool.members.map((member) => member.name));
    const added = await storedAccounts(directory, known);
    for (const account of added) {
      const member = this.member(account, true);
      this.pool.add(member);
      this.keepFresh(this.managers.at(-1)!);
      this.deps.logger.info(`account "${account.name}" joined the pool`, { account: account.name });
    }
    return added.map((account) => account.name);
  }

  /** Stops the timers and waits for every refresh in flight to be saved. */
  async settle(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all(this.managers.map((auth) => auth.settle()));
  }
}
