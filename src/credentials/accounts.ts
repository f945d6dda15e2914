/**
 * Accounts of the pool: each is a name and its own credential store. The
 * account used without `--name` is `default`; with one account everything
 * behaves as it did before pools existed.
 */
import type { CredentialStore } from "./types.js";

export const DEFAULT_ACCOUNT = "default";

/** Letters, digits, `.`, `_` and `-`, starting with a letter or digit: safe as a file name and in a header. */
const ACCOUNT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class InvalidAccountNameError extends Error {}

/** The name as given, or an error that says what a name may contain. */
export function checkAccountName(name: string): string {
  const trimmed = name.trim();
  if (!ACCOUNT_NAME_RE.test(trimmed)) {
    throw new InvalidAccountNameError(
      `Invalid account name "${name}": use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
  return trimmed;
}

export interface AccountEntry {
  name: string;
  store: CredentialStore;
}

/**
 * Where every account's credentials live. The Node version keeps one file
 * per account; the Worker keeps one Durable Object per account.
 */
export interface AccountDirectory {
  /** The accounts that hold credentials: `default` first, then by name. */
  list(): Promise<AccountEntry[]>;
  /** The store of `name`, whether or not it holds credentials yet. */
  open(name: string): CredentialStore;
}
