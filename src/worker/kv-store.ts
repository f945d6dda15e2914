/**
 * Credentials in Workers KV (one JSON value). KV has no compare-and-swap
 * and reads may lag writes elsewhere for up to a minute, so refreshes go
 * through the RefreshCoordinator Durable Object, never straight from here.
 */
import type { KvNamespace } from "./env.js";
import type { CredentialStore, StoredCredentials } from "../credentials/types.js";

const CREDENTIALS_KEY = "codex_proxy_credentials";

export class KvCredentialStore implements CredentialStore {
  constructor(private readonly kv: KvNamespace) {}

  async get(): Promise<StoredCredentials | undefined> {
    const text = await this.kv.get(CREDENTIALS_KEY, "text");
    if (!text) return undefined;
    try {
      const parsed = JSON.parse(text) as StoredCredentials;
      return typeof parsed?.accessToken === "string" ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async set(credentials: StoredCredentials): Promise<void> {
    await this.kv.put(CREDENTIALS_KEY, JSON.stringify(credentials));
  }

  async clear(): Promise<void> {
    await this.kv.delete(CREDENTIALS_KEY);
  }
}
