/**
 * The Node credential store: one JSON file (conf, project `codex-proxy`)
 * written atomically with mode 0600. A lock file next to it makes refreshes
 * exclusive across processes, and the file is read fresh under that lock, so
 * a refresh always starts from the newest refresh token. Outside the lock a
 * read is reused for up to a second: conf reads synchronously, and once per
 * request was a file read and parse on every request's path.
 */
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import Conf from "conf";
import type { RateLimitSnapshot } from "../codex/rate-limits.js";
import type { CredentialStore, StoredCredentials } from "../credentials/types.js";

interface StoreShape {
  credentials?: StoredCredentials;
  rateLimits?: RateLimitSnapshot;
}

/** The credential file exists but cannot be read; `path` names it when known (logout removes it). */
export class CredentialFileError extends Error {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 60_000;
const LOCK_POLL_MS = 25;
/** How long a read is reused outside the lock; an access token rotated elsewhere stays valid far longer. */
const REUSE_READ_MS = 1000;

export interface ConfStoreOptions {
  /** Directory of the file (CODEX_PROXY_HOME); conf's per-user default when absent. */
  cwd?: string;
}

export class ConfCredentialStore implements CredentialStore {
  private readonly conf: Conf<StoreShape>;
  private lastRead: { at: number; credentials: StoredCredentials | undefined } | undefined;

  constructor(options: ConfStoreOptions = {}) {
    const settings = {
      projectName: "codex-proxy",
      configName: "credentials",
      cwd: options.cwd,
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
    };
    try {
      // Never silently replace a file we cannot read: it may hold the only copy of a refresh token.
      this.conf = new Conf<StoreShape>({ ...settings, clearInvalidConfig: false });
    } catch (error) {
      // Only to learn the path: reading an invalid file this way neither writes nor clears it.
      let where: string | undefined;
      try {
        where = new Conf<StoreShape>({ ...settings, clearInvalidConfig: true }).path;
      } catch {
        where = undefined;
      }
      throw this.unreadable(error, where);
    }
  }

  /** Where the credentials live, for messages. */
  get path(): string {
    return this.conf.path;
  }

  private unreadable(error: unknown, where = this.conf?.path): CredentialFileError {
    const reason = error instanceof Error ? error.message : String(error);
    return new CredentialFileError(
      `The credential file${where ? ` ${where}` : ""} could not be read (${reason}). It was left untouched; fix it, or remove it with \`codex-proxy logout\`, then run \`codex-proxy login\`.`,
      where,
    );
  }

  private read<K extends keyof StoreShape>(key: K): StoreShape[K] {
    try {
      return this.conf.get(key);
    } catch (error) {
      throw this.unreadable(error);
    }
  }

  async get(): Promise<StoredCredentials | undefined> {
    const now = Date.now();
    if (!this.lastRead || now - this.lastRead.at >= REUSE_READ_MS) {
      const credentials = this.read("credentials");
      this.lastRead = {
        at: now,
        credentials: credentials && typeof credentials.accessToken === "string" ? credentials : undefined,
      };
    }
    return this.lastRead.credentials;
  }

  async set(credentials: StoredCredentials): Promise<void> {
    // JSON drops undefined fields, which is how a cleared field is removed.
    const stored = JSON.parse(JSON.stringify(credentials)) as StoredCredentials;
    this.lastRead = undefined;
    this.conf.set("credentials", stored);
  }

  /** Removes the credentials, and the file itself when nothing else is left in it. */
  async clear(): Promise<void> {
    this.lastRead = undefined;
    this.conf.delete("credentials");
    if (this.conf.size === 0) await rm(this.conf.path, { force: true });
  }

  async getRateLimits(): Promise<RateLimitSnapshot | undefined> {
    return this.read("rateLimits");
  }

  async setRateLimits(snapshot: RateLimitSnapshot): Promise<void> {
    this.conf.set("rateLimits", snapshot);
  }

  /** An exclusive lock file; a lock older than 30 s is taken to be left by a dead process. */
  async withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
    const lockPath = `${this.conf.path}.lock`;
    await mkdir(path.dirname(lockPath), { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await writeFile(lockPath, String(process.pid), { flag: "wx", mode: 0o600 });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const age = await stat(lockPath).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > LOCK_STALE_MS) {
          await rm(lockPath, { force: true });
          continue;
        }
        if (Date.now() > deadline) throw new Error(`Timed out waiting for the credential lock ${lockPath}`);
        await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      }
    }
    // Another process may have refreshed while we waited: read the file itself.
    this.lastRead = undefined;
    try {
      return await fn();
    } finally {
      await rm(lockPath, { force: true });
    }
  }
}
