/**
 * The isolate side of the RefreshCoordinator: the Worker's AuthProvider
 * (reads KV on the hot path, asks the coordinator only when a refresh is due
 * or the upstream said 401) and the credential store behind the admin API
 * (reads and writes go through the coordinator, so a push is seen at once
 * and never races a refresh).
 */
import { ProxyError } from "../core/errors.js";
import { silentLogger } from "../core/logging.js";
import type { DurableObjectStub, StubRequestInit } from "./env.js";
import { COORDINATOR_ORIGIN, RELOGIN_HINT_WORKER, type RefreshRequest } from "./refresh-coordinator.js";
import { TokenManager } from "../credentials/token-manager.js";
import type { AuthProvider, CredentialStore, StoredCredentials, UpstreamAuth } from "../credentials/types.js";

/** A new stub per call: Workers forbid using one request's I/O objects in another request. */
export type CoordinatorStub = () => DurableObjectStub;

export async function callCoordinator<T>(stub: CoordinatorStub, path: string, init: StubRequestInit = {}): Promise<T> {
  const response = await stub().fetch(`${COORDINATOR_ORIGIN}${path}`, init);
  const body = (await response.json()) as T & { error?: { message?: string; code?: string | null; type?: string } };
  if (!response.ok || body.error) {
    throw new ProxyError(
      response.status >= 400 ? response.status : 502,
      body.error?.message ?? "The Worker's refresh coordinator failed.",
      {
        code: body.error?.code ?? null,
        type: body.error?.type,
      },
    );
  }
  return body;
}

export const json = (method: string, value: unknown): StubRequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(value),
});

/** The admin API's store on the Worker: the coordinator's strongly consistent copy, not a KV read that may lag. */
export class CoordinatedCredentialStore implements CredentialStore {
  constructor(private readonly stub: CoordinatorStub) {}

  async get(): Promise<StoredCredentials | undefined> {
    const { credentials } = await callCoordinator<{ credentials: StoredCredentials | null }>(this.stub, "/credentials");
    return credentials ?? undefined;
  }

  async set(credentials: StoredCredentials): Promise<void> {
    await callCoordinator(this.stub, "/credentials", json("PUT", credentials));
  }

  async clear(): Promise<void> {
    await callCoordinator(this.stub, "/credentials", { method: "DELETE" });
  }
}

export class CoordinatedAuth implements AuthProvider {
  private readonly windowRule: TokenManager;

  constructor(
    /** The KV copy: one read per request, no coordinator round trip while the token is fresh. */
    private readonly kv: CredentialStore,
    private readonly stub: CoordinatorStub,
    authIssuer: string,
  ) {
    // Used only for its refresh-window rule (`needsRefresh`); it never refreshes from here.
    this.windowRule = new TokenManager({
      store: kv,
      issuer: authIssuer,
      fetch: () => Promise.reject(new Error("not used")),
      now: Date.now,
      logger: silentLogger,
    });
  }

  async hasCredentials(): Promise<boolean> {
    return (await this.kv.get()) !== undefined;
  }

  private refresh(staleAccessToken: string, force: boolean): Promise<UpstreamAuth> {
    const request: RefreshRequest = { staleAccessToken, force };
    return callCoordinator<UpstreamAuth>(this.stub, "/refresh", json("POST", request));
  }

  async getAuth(): Promise<UpstreamAuth> {
    // KV may not have reached this location yet right after a first push: ask the coordinator before giving up.
    const credentials = (await this.kv.get()) ?? (await new CoordinatedCredentialStore(this.stub).get());
    if (!credentials)
      throw new ProxyError(401, `No credentials stored in this Worker. ${RELOGIN_HINT_WORKER}`, {
        type: "authentication_error",
        code: "missing_credentials",
      });
    if (!this.windowRule.needsRefresh(credentials))
      return { accessToken: credentials.accessToken, accountId: credentials.accountId };
    return this.refresh(credentials.accessToken, false);
  }

  async refreshAfterUnauthorized(rejected: UpstreamAuth): Promise<UpstreamAuth> {
    const auth = await this.refresh(rejected.accessToken, true);
    if (auth.accessToken === rejected.accessToken) {
      throw new ProxyError(
        401,
        `The Codex backend rejected the access token and it cannot be refreshed. ${RELOGIN_HINT_WORKER}`,
        {
          type: "authentication_error",
          code: "invalid_credentials",
        },
      );
    }
    return auth;
  }
}
