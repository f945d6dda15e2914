/**
 * The Node credential store: one JSON file (conf, project `codex-proxy`)
 * written atomically with mode 0600, holding the credentials and nothing
 * else (usage lives in usage.json, see usage-store.ts). Every write —
 * refresh, login, logout, admin push — runs under the credential lock
 * (credential-lock.ts), shared by all processes using the file; under the
 * lock the file is read fresh, so a refresh always starts from the newest
 * refresh token. Outside the lock a read is reused for up to a second: conf
 * reads synchronously, and once per request was a file read and parse on
 * every request's path.
 */
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import Conf from "conf";
import { ProxyError } from "../core/errors.js";
import type { CredentialStore, StoredCredentials } from "../credentials/types.js";
import { CredentialLock, type HeldLock } from "./credential-lock.js";

interface StoreShape {
  credentials?: StoredCredentials;
}

/** How long a read is reused outside the lock; an access token rotated elsewhere stays valid far longer. */
const REUSE_READ_MS = 1000;

export interface ConfStoreOptions {
  /** Directory of the file (CODEX_PROXY_HOME); conf's per-user default when absent. */
  cwd?: string;
  /** The file's name without `.json`: `credentials` (the default account) unless given. */
  configName?: string;
}

/** Why the file could not be read, in words that never quote its content (it holds tokens). */
function reasonOf(error: unknown): string {
  if (error instanceof SyntaxError) return "it is not valid JSON";
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EISDIR") return "it is a directory, not a file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code) return code;
  if (error instanceof Error && error.message.startsWith("Config schema violation")) return "unexpected content";
  return "unknown error";
}

/**
 * The credential file exists but cannot be read: a 503 for requests, and the
 * path for `logout`, which removes such a file (it holds nothing usable).
 */
export class CredentialFileError extends ProxyError {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(503, message, { type: "server_error", code: "credentials_unreadable" });
  }
}

export class ConfCredentialStore implements CredentialStore {
  private readonly conf: Conf<StoreShape>;
  private readonly lock: CredentialLock;
  private lastRead: { at: number; credentials: StoredCredentials | undefined } | undefined;
  /** The lock while this store holds it: reads are then always fresh, and writes check it is still ours. */
  private held: HeldLock | undefined;

  constructor(options: ConfStoreOptions = {}) {
    const settings = {
      projectName: "codex-proxy",
      configName: options.configName ?? "credentials",
      cwd: options.cwd,
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
    };
    try {
      // Never silently replace a file we cannot read: it may hold the only copy of a refresh token.
      this.conf = new Conf<StoreShape>({ ...settings, clearInvalidConfig: false });
    } catch (error) {
      // Only to learn the path: conf then reads an invalid file as empty, and neither writes nor clears it.
      let where: string | undefined;
      try {
        where = new Conf<StoreShape>({ ...settings, clearInvalidConfig: true }).path;
      } catch {
        where = undefined;
      }
      throw this.unreadable(error, where);
    }
    this.lock = new CredentialLock(`${this.conf.path}.lock`);
  }

  /** Where the credentials live, for messages. */
  get path(): string {
    return this.conf.path;
  }

  /** The directory of the file, where usage.json lives too. */
  get directory(): string {
    return path.dirname(this.conf.path);
  }

  private unreadable(error: unknown, where = this.conf?.path): CredentialFileError {
    return new CredentialFileError(
      `The credential file${where ? ` ${where}` : ""} cannot be read (${reasonOf(error)}). It was left untouched: fix its permissions or content, or remove it with \`codex-proxy logout\`, then run \`codex-proxy login\`.`,
      where,
    );
  }

  private readFile(): StoreShape {
    try {
      return this.conf.store;
    } catch (error) {
      throw this.unreadable(error);
    }
  }

  async get(): Promise<StoredCredentials | undefined> {
    const now = Date.now();
    if (this.held || !this.lastRead || now - this.lastRead.at >= REUSE_READ_MS) {
      const { credentials } = this.readFile();
      this.lastRead = {
        at: now,
        credentials: credentials && typeof credentials.accessToken === "string" ? credentials : undefined,
      };
    }
    return this.lastRead.credentials;
  }

  async set(credentials: StoredCredentials): Promise<void> {
    await this.write({ credentials: JSON.parse(JSON.stringify(credentials)) as StoredCredentials });
  }

  /** Removes the credentials and the file itself: nothing else lives in it. */
  async clear(): Promise<void> {
    await this.write({});
    await rm(this.conf.path, { force: true });
  }

  /** Replaces the whole file (dropping what older versions kept beside the credentials), never an unreadable one. */
  private async write(shape: StoreShape): Promise<void> {
    this.readFile();
    if (this.held && !(await this.held.stillHeld())) {
      // Another process judged this one dead and took the lock: writing now could undo its work.
      throw new ProxyError(
        503,
        `Lost the credential lock ${this.lock.path} to another process before writing; nothing was written. Retry the request.`,
        { type: "server_error", code: "credential_lock_lost" },
      );
    }
    this.lastRead = undefined;
    // JSON drops undefined fields, which is how a cleared field is removed.
    this.conf.store = shape;
  }

  /** Runs `fn` holding the credential lock (see credential-lock.ts). */
  async withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(this.directory, { recursive: true });
    const held = await this.lock.acquire();
    this.held = held;
    try {
      return await fn();
    } finally {
      this.held = undefined;
      await held.release();
    }
  }
}
