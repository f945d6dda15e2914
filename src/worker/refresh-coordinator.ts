/**
 * The Worker's single owner of each account's token chain and cooldown: one
 * Durable Object instance per account (the default one named "credentials",
 * as before pools existed) through which every refresh, every credential
 * write and every cooldown passes.
 *
 * Why: KV has no compare-and-swap and a write can take up to a minute to
 * reach other locations, so isolates that refreshed straight from KV could
 * spend one refresh token twice, or overwrite a fresh push with an old
 * chain. Here the object's own storage (transactional, strongly consistent)
 * is the truth and KV is a copy for the isolates' hot path; refreshes and
 * pushes run one at a time under an in-object lock, and a refresh asked for
 * with a token that is no longer the stored one adopts the stored one.
 */
import { loadConfig, type EnvRecord } from "../core/config.js";
import { errorResponse, ProxyError, toProxyError } from "../core/errors.js";
import { createLogger, type Logger } from "../core/logging.js";
import type { DurableObjectStateLike, DurableStorageLike, KvNamespace, WorkerEnv } from "./env.js";
import { KvCredentialStore } from "./kv-store.js";
import { TokenManager } from "../credentials/token-manager.js";
import type { CredentialStore, StoredCredentials } from "../credentials/types.js";
import { checkAccountName, DEFAULT_ACCOUNT, InvalidAccountNameError } from "../credentials/accounts.js";
import { ACCOUNT_HEADER, REGISTRY_KEY, usageKey } from "./account-layout.js";
import { type RegistryEntry, upsertEntry } from "./account-registry.js";
import { afterNewLogin, type AccountUsage, applyReport, isUsageReport, summariseAccount } from "./account-usage.js";

export const RELOGIN_HINT_WORKER =
  "Give this Worker a new login: `codex-proxy push-credentials --login --worker-url <this Worker>` " +
  "(or `codex-proxy login`, then `push-credentials`).";

/** The coordinator's routes (internal: only reachable through the binding). */
export const COORDINATOR_ORIGIN = "https://refresh-coordinator";
export interface RefreshRequest {
  staleAccessToken: string;
  force: boolean;
}

export function kvFromEnv(env: WorkerEnv): KvNamespace | undefined {
  return env.CODEX_PROXY_KV ?? env.GEMINI_CLI_KV;
}

/** The string vars and secrets of the env (bindings are objects and are skipped). */
export function stringVars(env: WorkerEnv): EnvRecord {
  const vars: EnvRecord = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === "string") vars[key] = value;
  return vars;
}

/** The object's storage keys (each account's object has its own storage). */
const STORAGE_KEY = "credentials";
const USAGE_KEY = "usage";
const REGISTRY_STORAGE_KEY = "registry";

/**
 * Durable Object storage as the truth, mirrored to KV before anyone uses it.
 * `null` in storage means "cleared" (so a lagging KV copy is not resurrected);
 * nothing in storage means "never written here": KV's copy is used (e.g. a
 * namespace filled before this object existed).
 */
class DurableCredentialStore implements CredentialStore {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly kv: KvCredentialStore;

  constructor(
    private readonly storage: DurableStorageLike,
    kv: KvNamespace,
    account: string = DEFAULT_ACCOUNT,
  ) {
    this.kv = new KvCredentialStore(kv, account);
  }

  async get(): Promise<StoredCredentials | undefined> {
    const stored = await this.storage.get<StoredCredentials | null>(STORAGE_KEY);
    if (stored === null) return undefined;
    return stored ?? this.kv.get();
  }

  async set(credentials: StoredCredentials): Promise<void> {
    // JSON drops undefined fields, which is how a cleared field is removed.
    const clean = JSON.parse(JSON.stringify(credentials)) as StoredCredentials;
    await this.storage.put(STORAGE_KEY, clean);
    await this.kv.set(clean);
  }

  async clear(): Promise<void> {
    await this.storage.put(STORAGE_KEY, null);
    await this.kv.clear();
  }

  /** One refresh or push at a time in this object, which is the only one for the chain. */
  withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** Every line the chain logs names its account (never its tokens). */
function namingAccount(logger: Logger, account: string): Logger {
  return {
    debug: (message, fields) => logger.debug(message, { account, ...fields }),
    info: (message, fields) => logger.info(message, { account, ...fields }),
    warn: (message, fields) => logger.warn(message, { account, ...fields }),
    error: (message, fields) => logger.error(message, { account, ...fields }),
  };
}

/** One account's chain in its object: the store (storage as truth, KV as copy) and the one token manager. */
interface AccountChain {
  store: DurableCredentialStore;
  manager: TokenManager;
}

/**
 * One instance per account (see account-layout.ts for the names). Each owns
 * its account's chain and cooldown; the default account's instance also owns
 * the account registry.
 */
export class RefreshCoordinator {
  private readonly storage: DurableStorageLike;
  private readonly kv: KvNamespace | undefined;
  private readonly env: WorkerEnv;
  private readonly chains = new Map<string, AccountChain>();
  /** Registry and usage changes run one at a time, like refreshes. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(state: DurableObjectStateLike, env: WorkerEnv) {
    this.storage = state.storage;
    this.kv = kvFromEnv(env);
    this.env = env;
  }

  private chainFor(account: string, kv: KvNamespace): AccountChain {
    const existing = this.chains.get(account);
    if (existing) return existing;
    const config = loadConfig(stringVars(this.env));
    const base = createLogger({ production: true, level: config.logLevel, write: (line) => console.log(line) });
    const store = new DurableCredentialStore(this.storage, kv, account);
    const manager = new TokenManager({
      store,
      issuer: config.authIssuer,
      fetch: (input, init) => fetch(input, init),
      now: Date.now,
      logger: namingAccount(base, account),
      reloginHint: RELOGIN_HINT_WORKER,
    });
    const chain = { store, manager };
    this.chains.set(account, chain);
    return chain;
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writes.then(fn);
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async usage(): Promise<AccountUsage> {
    return (await this.storage.get<AccountUsage>(USAGE_KEY)) ?? {};
  }

  private async saveUsage(account: string, kv: KvNamespace, usage: AccountUsage): Promise<void> {
    await this.storage.put(USAGE_KEY, usage);
    await kv.put(usageKey(account), JSON.stringify(usage));
  }

  /** The registry; a Worker from before pools has none, and then holds the default account if it has a login. */
  private async registry(chain: AccountChain): Promise<RegistryEntry[]> {
    const stored = await this.storage.get<RegistryEntry[]>(REGISTRY_STORAGE_KEY);
    if (stored) return stored;
    return (await chain.store.get()) ? [{ name: DEFAULT_ACCOUNT }] : [];
  }

  async fetch(request: Request): Promise<Response> {
    try {
      const kv = this.kv;
      if (!kv)
        throw new ProxyError(503, "No KV namespace bound: add CODEX_PROXY_KV to wrangler.toml.", {
          type: "server_error",
          code: "kv_missing",
        });
      const account = checkAccountName(request.headers.get(ACCOUNT_HEADER) ?? DEFAULT_ACCOUNT);
      const { store, manager } = this.chainFor(account, kv);
      const url = new URL(request.url);
      const path = url.pathname;
      if (path === "/refresh" && request.method === "POST") {
        const body = (await request.json()) as RefreshRequest;
        return Response.json(await manager.refreshFrom(String(body.staleAccessToken ?? ""), body.force === true));
      }
      if (path === "/credentials" && request.method === "GET")
        return Response.json({ credentials: (await store.get()) ?? null });
      if (path === "/credentials" && request.method === "PUT") {
        const credentials = (await request.json()) as StoredCredentials;
        // Under the lock: a push waits for a refresh in flight, then wins over it.
        await store.withRefreshLock(() => store.set(credentials));
        // A new login brings an account that needed one (or lacked Codex) back into rotation.
        await this.serialised(async () => {
          const usage = await this.usage();
          if (usage.outOfRotation) await this.saveUsage(account, kv, afterNewLogin(usage));
        });
        return Response.json({ ok: true });
      }
      if (path === "/credentials" && request.method === "DELETE") {
        await store.withRefreshLock(() => store.clear());
        return Response.json({ ok: true });
      }
      if (path === "/usage" && request.method === "GET") return Response.json({ usage: await this.usage() });
      if (path === "/usage" && request.method === "POST") {
        const report = (await request.json()) as unknown;
        if (!isUsageReport(report)) throw new ProxyError(400, "Not a usage report.", { code: "invalid_usage_report" });
        const usage = await this.serialised(async () => {
          const next = applyReport(await this.usage(), report, Date.now());
          await this.saveUsage(account, kv, next);
          return next;
        });
        return Response.json({ usage });
      }
      if (path === "/summary" && request.method === "GET") {
        const disabled = url.searchParams.get("disabled") === "1";
        return Response.json({
          summary: summariseAccount(account, await store.get(), await this.usage(), disabled, Date.now()),
        });
      }
      if (path === "/registry" && account === DEFAULT_ACCOUNT) {
        if (request.method === "GET") return Response.json({ accounts: await this.registry({ store, manager }) });
        if (request.method === "POST") {
          const update = (await request.json()) as RegistryEntry;
          const entry: RegistryEntry = { name: checkAccountName(String(update?.name ?? "")) };
          if (typeof update.disabled === "boolean") entry.disabled = update.disabled;
          const accounts = await this.serialised(async () => {
            const next = upsertEntry(await this.registry({ store, manager }), entry);
            await this.storage.put(REGISTRY_STORAGE_KEY, next);
            await kv.put(REGISTRY_KEY, JSON.stringify({ accounts: next }));
            return next;
          });
          return Response.json({ accounts });
        }
      }
      throw new ProxyError(404, `Unknown coordinator route ${request.method} ${path}`);
    } catch (error) {
      return errorResponse(
        error instanceof InvalidAccountNameError ? new ProxyError(400, error.message) : toProxyError(error),
      );
    }
  }
}
