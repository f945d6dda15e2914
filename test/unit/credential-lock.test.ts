/**
 * The credential lock on a real file system, with real processes as owners:
 * dead owners are taken over at once, live ones are waited for, and a
 * holder only ever removes its own lock.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CredentialLock, LockTimeoutError } from "../../src/node/credential-lock.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function lockPath(): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), "codex-proxy-lock-")), "credentials.json.lock");
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

/** A process that stays alive until the test ends. */
function livePid(): number {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  children.push(child);
  return child.pid!;
}

function ownerRecord(pid: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    pid,
    host: os.hostname(),
    processStartedAt: Date.now() - 60_000,
    acquiredAt: Date.now(),
    id: `owner-${pid}`,
    ...extra,
  });
}

// A staleness time far beyond the test: only owner checks can free these locks in time.
const patient = (file: string, waitMs = 2000) => new CredentialLock(file, { staleMs: 10 * 60_000, waitMs });

describe("credential lock", () => {
  it("takes over at once a lock whose owner on this host has died", async () => {
    const file = lockPath();
    writeFileSync(file, ownerRecord(await deadPid()));
    const held = await patient(file).acquire();
    expect(JSON.parse(readFileSync(file, "utf8")).pid).toBe(process.pid);
    await held.release();
    expect(existsSync(file)).toBe(false);
  });

  it("takes over a lock in the old format (a bare pid) whose process has died", async () => {
    const file = lockPath();
    writeFileSync(file, String(await deadPid()));
    const held = await patient(file).acquire();
    await held.release();
  });

  it("takes over a lock carrying its own pid from an earlier process (a restarted container reuses the pid)", async () => {
    const file = lockPath();
    writeFileSync(file, ownerRecord(process.pid, { processStartedAt: 1 }));
    const held = await patient(file).acquire();
    expect(JSON.parse(readFileSync(file, "utf8")).id).toBe(held.owner.id);
    await held.release();
  });

  it("never robs a live owner: it waits, then gives up naming the owner, and leaves the lock as it was", async () => {
    const file = lockPath();
    const pid = livePid();
    const record = ownerRecord(pid);
    writeFileSync(file, record);
    const attempt = patient(file, 300).acquire();
    await expect(attempt).rejects.toBeInstanceOf(LockTimeoutError);
    await expect(attempt).rejects.toThrow(`process ${pid}`);
    expect(readFileSync(file, "utf8")).toBe(record);
  });

  it("takes over a live-looking owner only once its heartbeat is older than the staleness time", async () => {
    const file = lockPath();
    writeFileSync(file, ownerRecord(livePid(), { host: "another-host" }));
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    const held = await new CredentialLock(file, { staleMs: 30_000, waitMs: 2000 }).acquire();
    await held.release();
  });

  it("releases only its own lock: a lock that another owner took meanwhile is left alone", async () => {
    const file = lockPath();
    const held = await patient(file).acquire();
    expect(await held.stillHeld()).toBe(true);
    const other = ownerRecord(livePid());
    writeFileSync(file, other);
    expect(await held.stillHeld()).toBe(false);
    await held.release();
    expect(readFileSync(file, "utf8")).toBe(other);
  });

  it("many waiters over a dead owner's lock: exactly one holds it at a time, and all get it in turn", async () => {
    const file = lockPath();
    writeFileSync(file, ownerRecord(await deadPid()));
    let holding = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const held = await patient(file, 10_000).acquire();
        holding++;
        most = Math.max(most, holding);
        await new Promise((resolve) => setTimeout(resolve, 5));
        holding--;
        done++;
        await held.release();
      }),
    );
    expect(most).toBe(1);
    expect(done).toBe(8);
    expect(existsSync(file)).toBe(false);
  });

  it("a process that exits while holding the lock removes it", async () => {
    const file = lockPath();
    const script = `
      import { CredentialLock } from ${JSON.stringify(path.resolve("src/node/credential-lock.ts"))};
      await new CredentialLock(${JSON.stringify(file)}).acquire();
      process.exit(3);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: "ignore",
    });
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(3);
    expect(existsSync(file)).toBe(false);
  });
});
