/**
 * The lock every credential write takes, shared by all processes that use
 * one credential file. The lock file names its owner (pid, host, process
 * start, a random id), so that:
 *
 * - a lock left by a process that died on this host is taken over at once
 *   (a restarted `serve` does not wait behind its own crashed predecessor);
 * - a live owner is never robbed: an owner on another host, or one whose
 *   liveness cannot be told, loses the lock only when its heartbeat (the
 *   file's mtime, renewed every few seconds while held) is older than the
 *   staleness time;
 * - taking over is serialised through a short-lived guard file, so two
 *   waiters never both break the same lock and then share it;
 * - a lock is released only by the owner that still holds it.
 *
 * Why not proper-lockfile: its lock is an empty directory, so it cannot say
 * who owns it (no instant dead-owner takeover), and its unlock removes the
 * lock without checking it is still the caller's.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, unlinkSync } from "node:fs";
import { link, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";

export interface LockOwner {
  pid: number;
  host: string;
  /** Epoch ms when the owning process started: tells a restarted process with a reused pid from its predecessor. */
  processStartedAt: number;
  /** Epoch ms when the lock was taken. */
  acquiredAt: number;
  id: string;
}

export interface CredentialLockOptions {
  /** A lock whose heartbeat is older than this is abandoned (when its owner's liveness cannot be checked). */
  staleMs?: number;
  /** How often a held lock's mtime is renewed. */
  heartbeatMs?: number;
  /** How long to wait for a live owner before giving up. */
  waitMs?: number;
  pollMs?: number;
}

const LOCK_STALE_MS = 30_000;
const HEARTBEAT_MS = 5_000;
const WAIT_MS = 60_000;
const POLL_MS = 25;
/** A takeover guard is held for a few file operations; older than this, its holder died mid-takeover. */
const GUARD_STALE_MS = 5_000;

const PROCESS_STARTED_AT = Math.round(Date.now() - process.uptime() * 1000);
const HOST = os.hostname();

export class LockTimeoutError extends Error {}

function parseOwner(raw: string): Partial<LockOwner> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (value && typeof value === "object") return value as Partial<LockOwner>;
    // Older versions wrote the bare pid of a process on this host.
    if (typeof value === "number" && Number.isInteger(value)) return { pid: value, host: HOST };
  } catch {
    // Empty or garbled: judged by age alone.
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when the owner is known to be gone, or its heartbeat stopped more than `staleMs` ago. */
function abandoned(owner: Partial<LockOwner> | undefined, ageMs: number, staleMs: number): boolean {
  if (ageMs > staleMs) return true;
  if (!owner || owner.host !== HOST || typeof owner.pid !== "number") return false;
  if (owner.pid === process.pid) {
    // Our pid: ours if we started it, else a predecessor that had the same pid (a restarted container).
    return owner.processStartedAt !== undefined && owner.processStartedAt !== PROCESS_STARTED_AT;
  }
  return !pidAlive(owner.pid);
}

function describe(owner: Partial<LockOwner> | undefined): string {
  return owner?.pid ? `process ${owner.pid}${owner.host ? ` on ${owner.host}` : ""}` : "another process";
}

const errno = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** Creates `path` holding `content`, atomically, or fails with EEXIST. */
async function createExclusive(path: string, content: string): Promise<void> {
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, content, { mode: 0o600 });
  try {
    // link() never replaces: exactly one of several creators wins, and nobody ever reads a half-written file.
    await link(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}

async function readIfExists(path: string): Promise<{ raw: string; ageMs: number } | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { raw, ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if (errno(error) === "ENOENT") return undefined;
    throw error;
  }
}

export interface HeldLock {
  readonly owner: LockOwner;
  /** Reads the lock file: true while it still names this holder. */
  stillHeld(): Promise<boolean>;
  /** Removes the lock if it is still this holder's; leaves anyone else's alone. */
  release(): Promise<void>;
}

export class CredentialLock {
  private readonly staleMs: number;
  private readonly heartbeatMs: number;
  private readonly waitMs: number;
  private readonly pollMs: number;

  constructor(
    readonly path: string,
    options: CredentialLockOptions = {},
  ) {
    this.staleMs = options.staleMs ?? LOCK_STALE_MS;
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.waitMs = options.waitMs ?? WAIT_MS;
    this.pollMs = options.pollMs ?? POLL_MS;
  }

  async acquire(): Promise<HeldLock> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const owner: LockOwner = {
        pid: process.pid,
        host: HOST,
        processStartedAt: PROCESS_STARTED_AT,
        acquiredAt: Date.now(),
        id: randomUUID(),
      };
      try {
        await createExclusive(this.path, JSON.stringify(owner));
        return this.hold(owner);
      } catch (error) {
        if (errno(error) !== "EEXIST") throw error;
      }
      const seen = await readIfExists(this.path);
      if (!seen) continue;
      const holder = parseOwner(seen.raw);
      if (abandoned(holder, seen.ageMs, this.staleMs)) {
        await this.takeOver(seen.raw);
        continue;
      }
      if (Date.now() > deadline) {
        throw new LockTimeoutError(
          `Timed out after ${Math.round(this.waitMs / 1000)} s waiting for the credential lock ${this.path}, held by ${describe(holder)}. If no codex-proxy process is running, delete that file.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /**
   * Removes an abandoned lock, under a guard so that two waiters cannot both
   * remove it (the second would remove the lock the first just took).
   */
  private async takeOver(abandonedRaw: string): Promise<void> {
    const guard = `${this.path}.takeover`;
    const guardOwner = { pid: process.pid, host: HOST, processStartedAt: PROCESS_STARTED_AT, id: randomUUID() };
    try {
      await createExclusive(guard, JSON.stringify(guardOwner));
    } catch (error) {
      if (errno(error) !== "EEXIST") throw error;
      // Someone else is taking over; clear the guard only if its holder died in the middle.
      const seen = await readIfExists(guard);
      if (seen && abandoned(parseOwner(seen.raw), seen.ageMs, GUARD_STALE_MS)) await rm(guard, { force: true });
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      return;
    }
    try {
      const current = await readIfExists(this.path);
      if (current?.raw === abandonedRaw) await rm(this.path, { force: true });
    } finally {
      await rm(guard, { force: true });
    }
  }

  private hold(owner: LockOwner): HeldLock {
    const path = this.path;
    const ours = (raw: string | undefined) => raw !== undefined && parseOwner(raw)?.id === owner.id;
    const readRaw = () => readFile(path, "utf8").catch(() => undefined);
    const heartbeat = setInterval(() => {
      void readRaw().then((raw) => {
        if (ours(raw)) {
          const now = new Date();
          return utimes(path, now, now).catch(() => {});
        }
      });
    }, this.heartbeatMs);
    heartbeat.unref();
    // A process that exits while holding the lock (grace period over, uncaught error) still lets go of it.
    const onExit = () => {
      try {
        if (ours(readFileSync(path, "utf8"))) unlinkSync(path);
      } catch {
        // Already gone.
      }
    };
    process.on("exit", onExit);
    let released = false;
    return {
      owner,
      stillHeld: async () => !released && ours(await readRaw()),
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(heartbeat);
        process.off("exit", onExit);
        if (ours(await readRaw())) await rm(path, { force: true });
      },
    };
  }
}
