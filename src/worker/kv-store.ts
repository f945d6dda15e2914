/**
 * One account's credentials in Workers KV (one JSON value per account). KV has no compare-and-swap
 * and reads may lag writes elsewhere for up to a minute, so refreshes go
 * through the RefreshCoordinator Durable Object, never straight from here.
 */
import type { KvNamespace } from "./env.js";
import type { CredentialStore, StoredCredentials } from "../credentials/types.js";
import { credentialsKey } from "./account-layout.js";
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";

export class KvCredentialStore implements CredentialStore {
  private readonly key: string;

  constructor(
    private readonly kv: KvNamespace,
    account: string = DEFAULT_ACCOUNT,
  ) {
    this.key = credentialsKey(account);
  }

  async get(): Promise<StoredCredentials | undefined> {
    const text = await this.kv.get(this.key, "text");
    if (!text) return undefined;
    try {
      const parsed = JSON.parse(text) as StoredCredentials;
      return typeof parsed?.accessToken === "string" ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async set(credentials: StoredCredentials): Promise<void> {
    await this.kv.put(this.key, JSON.stringify(credentials));
  }

  async clear(): Promise<void> {
    await this.kv.delete(this.key);
  }
}
