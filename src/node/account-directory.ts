/**
 * The pool's accounts on disk, one credential file per account so that a
 * refresh of one never rewrites another and each has its own lock:
 *
 *   credentials.json        the `default` account (the same file and format
 *                           as before pools, so an older version still reads it)
 *   accounts/NAME.json      every other account
 *
 * Each file is a ConfCredentialStore: 0600, written atomically, every write
 * under that file's lock.
 */
import { mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import Conf from "conf";
import {
  checkAccountName,
  DEFAULT_ACCOUNT,
  type AccountDirectory,
  type AccountEntry,
} from "../credentials/accounts.js";
import { ConfCredentialStore } from "./conf-store.js";

const ACCOUNT_FILE_RE = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})\.json$/;

export class NodeAccountDirectory implements AccountDirectory {
  private readonly stores = new Map<string, ConfCredentialStore>();
  /** The directory holding credentials.json, usage.json and accounts/. */
  readonly directory: string;

  /**
   * `cwd`: CODEX_PROXY_HOME, or conf's per-user directory when absent. Opens no credential file:
   * a corrupt one (which `open` reports) must not hide the other accounts from `accounts` and `status`.
   */
  constructor(cwd?: string) {
    // Only to learn conf's per-user directory; this handle never reads or writes a file.
    this.directory =
      cwd ??
      path.dirname(new Conf({ projectName: "codex-proxy", configName: "credentials", clearInvalidConfig: true }).path);
  }

  /** The default account's store (credentials.json); throws CredentialFileError when the file cannot be read. */
  get defaultStore(): ConfCredentialStore {
    return this.open(DEFAULT_ACCOUNT);
  }

  get accountsDirectory(): string {
    return path.join(this.directory, "accounts");
  }

  /** The file of `name` (for messages). */
  pathOf(name: string): string {
    return path.join(
      name === DEFAULT_ACCOUNT ? this.directory : this.accountsDirectory,
      `${name === DEFAULT_ACCOUNT ? "credentials" : name}.json`,
    );
  }

  open(name: string): ConfCredentialStore {
    const checked = checkAccountName(name);
    let store = this.stores.get(checked);
    if (!store) {
      if (checked !== DEFAULT_ACCOUNT) {
        // Only the owner may list it: the account names are its file names (conf would create it 0755).
        mkdirSync(this.accountsDirectory, { recursive: true, mode: 0o700 });
      }
      store =
        checked === DEFAULT_ACCOUNT
          ? new ConfCredentialStore({ cwd: this.directory })
          : new ConfCredentialStore({ cwd: this.accountsDirectory, configName: checked });
      this.stores.set(checked, store);
    }
    return store;
  }

  /** Names with a file, `default` first; files whose name is not an account name are ignored. */
  names(): string[] {
    let files: string[] = [];
    try {
      files = readdirSync(this.accountsDirectory);
    } catch {
      files = [];
    }
    const named = files
      .map((file) => ACCOUNT_FILE_RE.exec(file)?.[1])
      .filter((name): name is string => name !== undefined && name !== DEFAULT_ACCOUNT)
      .sort();
    return [DEFAULT_ACCOUNT, ...named];
  }

  async list(): Promise<AccountEntry[]> {
    const entries: AccountEntry[] = [];
    for (const name of this.names()) {
      const store = this.open(name);
      if (await store.get()) entries.push({ name, store });
    }
    return entries;
  }
}
