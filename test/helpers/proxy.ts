/**
 * Starts the real server (`startServer`, the same code `serve` runs) on a
 * random 127.0.0.1 port against a fake backend, with captured logs. With a
 * FixedAuth (the default), its token is registered with the fake backend at
 * `codexBaseUrl`, which accepts no other; other auth providers bring tokens
 * the fake accepts (e.g. from a fake OAuth server it trusts).
 */
import { loadConfig, type EnvRecord } from "../../src/core/config.js";
import type { AuthProvider, CredentialStore, UpstreamAuth } from "../../src/credentials/types.js";
import { startServer, type RunningServer } from "../../src/node/server.js";
import { createLogger } from "../../src/core/logging.js";
import { fakeCodexBackendAt } from "../fake/codex-backend.js";
import { RateLimitTracker } from "../../src/codex/rate-limits.js";
import { DEFAULT_ACCOUNT } from "../../src/credentials/accounts.js";
import { AccountPool, type PoolMember } from "../../src/pool/account-pool.js";

/** Fixed credentials, no refresh: for tests of the HTTP surface rather than the token chain. */
export class FixedAuth implements AuthProvider {
  constructor(public auth: UpstreamAuth | undefined = { accessToken: "test-access-token", accountId: "acct_test" }) {}
  async getAuth(): Promise<UpstreamAuth> {
    if (!this.auth) throw new Error("no credentials");
    return this.auth;
  }
  async refreshAfterUnauthorized(): Promise<UpstreamAuth> {
    return this.getAuth();
  }
  async hasCredentials(): Promise<boolean> {
    return this.auth !== undefined;
  }
}

export interface TestProxy extends RunningServer {
  logs: string[];
  baseURL: string;
  /** The proxy's account pool (one `default` account unless `accounts` or `members` were given). */
  pool: AccountPool;
}

/** The fixed token and account id of a test account named `name` (registered with the fake backend). */
export function fixedAccount(name: string): FixedAuth {
  return new FixedAuth({ accessToken: `test-access-token-${name}`, accountId: `acct_${name}` });
}

export async function startTestProxy(options: {
  codexBaseUrl: string;
  env?: EnvRecord;
  auth?: AuthProvider;
  store?: CredentialStore;
  /** A pool of these members (e.g. token managers on real stores), first. */
  members?: PoolMember[];
  /** Then these accounts, each with its `fixedAccount` token, in this order. */
  accounts?: string[];
  /** The proxy's clock (the pool's cooldowns and the reset times it reads). */
  now?: () => number;
}): Promise<TestProxy> {
  const config = loadConfig({ CODEX_BASE_URL: options.codexBaseUrl, ...options.env });
  const fake = fakeCodexBackendAt(options.codexBaseUrl);
  const auth = options.auth ?? new FixedAuth();
  if (auth instanceof FixedAuth && auth.auth) fake?.acceptToken(auth.auth.accessToken);
  const logs: string[] = [];
  const logger = createLogger({ production: config.production, level: "debug", write: (line) => logs.push(line) });
  const members: PoolMember[] = [...(options.members ?? [])];
  for (const name of options.accounts ?? []) {
    const fixed = fixedAccount(name);
    fake?.acceptToken(fixed.auth!.accessToken);
    members.push({ name, auth: fixed, rateLimits: new RateLimitTracker() });
  }
  const pool = new AccountPool(
    members.length > 0
      ? { members, strategy: config.poolStrategy, now: options.now, logger }
      : {
          members: [{ name: DEFAULT_ACCOUNT, auth, store: options.store, rateLimits: new RateLimitTracker() }],
          strategy: config.poolStrategy,
          now: options.now,
          logger,
        },
  );
  const server = await startServer({
    config,
    pool,
    store: options.store,
    logger,
    now: options.now,
    port: 0,
    host: "127.0.0.1",
    sleep: async () => {},
  });
  const close = async (graceMs?: number) => {
    await server.close(graceMs);
    // Let clients in this process see their pooled sockets closed before a next
    // server may be given the same port.
    await new Promise((resolve) => setTimeout(resolve, 50));
  };
  return { ...server, close, logs, baseURL: `${server.url}/v1`, pool };
}
