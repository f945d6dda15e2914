/**
 * Runs the Worker under wrangler's local runtime (workerd, local KV and
 * Durable Objects) on 127.0.0.1, with wrangler's calls home turned off.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { tempHome } from "./cli.js";
import { freePort } from "./net.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const WRANGLER = fileURLToPath(new URL("../../node_modules/wrangler/bin/wrangler.js", import.meta.url));

export const QUIET_WRANGLER_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
};
const WRANGLER_ENV = { ...process.env, ...QUIET_WRANGLER_ENV, CI: "true", NO_COLOR: "1" };

// Kept here for the tests that import it from this module.
export { freePort } from "./net.js";

export interface LocalWorker {
  url: string;
  /** Where wrangler keeps the local KV and Durable Object state. */
  persistDir: string;
  output: () => string;
  stop: () => Promise<void>;
}

export interface StartOptions {
  /** Start through `npm run worker:dev -- …`, as the README tells users (checks the script passes options through). */
  viaNpmScript?: boolean;
  /** Local KV and Durable Object state to start from (e.g. laid out by `writeLocalKv`); a new one when absent. */
  persistDir?: string;
}

export async function startLocalWorker(vars: Record<string, string>, options: StartOptions = {}): Promise<LocalWorker> {
  const [port, inspector] = [await freePort(), await freePort()];
  const persistDir = options.persistDir ?? tempHome("wrangler-state-");
  const args = [
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspector),
    "--show-interactive-dev-session=false",
    "--persist-to",
    persistDir,
  ];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  // Own process group, so stop() ends npm, wrangler and workerd together (by this group's id only).
  const child: ChildProcess = options.viaNpmScript
    ? spawn("npm", ["run", "--silent", "worker:dev", "--", ...args], {
        cwd: ROOT,
        env: WRANGLER_ENV,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      })
    : spawn(process.execPath, [WRANGLER, "dev", "--local", ...args], {
        cwd: ROOT,
        env: WRANGLER_ENV,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      kill("SIGKILL");
      throw new Error(`wrangler dev did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    persistDir,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Reads a key of the Worker's local KV namespace the way a user would (`wrangler kv key get --local`). */
export async function readLocalKv(worker: LocalWorker, key: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      WRANGLER,
      "kv",
      "key",
      "get",
      key,
      "--binding",
      "CODEX_PROXY_KV",
      "--local",
      "--persist-to",
      worker.persistDir,
      "--text",
    ],
    { cwd: ROOT, env: WRANGLER_ENV },
  );
  return stdout.trim();
}

/**
 * Reads several keys in one wrangler run (`wrangler kv bulk get --local`): each run
 * starts wrangler, which costs seconds on a loaded machine. Absent keys are null.
 */
export async function readLocalKvKeys(worker: LocalWorker, keys: string[]): Promise<Record<string, string | null>> {
  const list = path.join(worker.persistDir, `keys-${process.pid}-${Date.now()}.json`);
  writeFileSync(list, JSON.stringify(keys));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [WRANGLER, "kv", "bulk", "get", list, "--binding", "CODEX_PROXY_KV", "--local", "--persist-to", worker.persistDir],
    { cwd: ROOT, env: WRANGLER_ENV },
  );
  // `{ "<key>": { "value": "<text>" | null }, … }`, followed by a "Success!" line.
  const json = stdout.slice(stdout.indexOf("{"), stdout.lastIndexOf("}") + 1);
  const parsed = JSON.parse(json) as Record<string, { value?: string | null } | undefined>;
  return Object.fromEntries(keys.map((key) => [key, parsed[key]?.value ?? null]));
}

/** Writes a key of a local KV namespace (`wrangler kv key put --local`), e.g. before the Worker starts. */
export async function writeLocalKv(persistDir: string, key: string, value: string): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [WRANGLER, "kv", "key", "put", key, value, "--binding", "CODEX_PROXY_KV", "--local", "--persist-to", persistDir],
    { cwd: ROOT, env: WRANGLER_ENV },
  );
}
