/**
 * Where each account lives on the Worker. The default account keeps the
 * names it had before pools existed (Durable Object "credentials", KV key
 * `codex_proxy_credentials`), so a deployed Worker keeps its login after an
 * upgrade; every other account gets its own object and keys.
 */
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";

const CREDENTIALS_KEY = "codex_proxy_credentials";

/** The Durable Object instance that owns one account's chain and cooldown. */
export function coordinatorName(account: string): string {
  return account === DEFAULT_ACCOUNT ? "credentials" : `account:${account}`;
}

/** KV copy of one account's credentials (the isolates' hot path). */
export function credentialsKey(account: string): string {
  return account === DEFAULT_ACCOUNT ? CREDENTIALS_KEY : `${CREDENTIALS_KEY}:${account}`;
}

/** KV copy of one account's cooldown and usage windows, so other isolates skip an account at its limit. */
export function usageKey(account: string): string {
  return `codex_proxy_usage:${account}`;
}

/** KV copy of the account registry (names and disabled flags), owned by the default account's object. */
export const REGISTRY_KEY = "codex_proxy_accounts";

/** Which account a coordinator request is about (set by the isolate's stub, read by the object). */
export const ACCOUNT_HEADER = "x-codex-proxy-account";
