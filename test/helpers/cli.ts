/**
 * Runs the CLI two ways. In-process (`runCliInProcess`, `startCliInProcess`):
 * the same `runCli` the launcher calls, on argv, with captured streams, no TTY
 * and only the environment given; fast, for what a command does. As a process
 * (`runCli`, `startCli`): the built `bin/codex-proxy.mjs`, with no TTY or in a
 * pseudo-terminal; for what only a process shows (exit codes, signals, a TTY,
 * a closed stdout, `serve` running beside other processes).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { runCli as runCliMain } from "../../src/cli/program.js";

export const BIN = fileURLToPath(new URL("../../bin/codex-proxy.mjs", import.meta.url));

export function tempHome(prefix = "codex-proxy-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: nothing from the developer's own setup leaks in. */
export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: "", ...extra };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
}

/** Output that can be waited on: `waitFor` resolves once `pattern` matches everything written so far. */
function watchedOutput() {
  let output = "";
  const listeners: Array<() => void> = [];
  return {
    append(chunk: Buffer | string) {
      output += chunk.toString();
      for (const listener of listeners.splice(0)) listener();
    },
    output: () => output,
    waitFor: (pattern: RegExp, timeoutMs = 15_000) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`)),
          timeoutMs,
        );
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          } else listeners.push(check);
        };
        check();
      }),
  };
}

const capture = (onChunk: (chunk: Buffer | string) => void) =>
  new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      onChunk(chunk);
      done();
    },
  });

export interface InProcessCli {
  /** What the command reads; empty and ended unless started `interactive`. */
  stdin: Writable;
  /** stdout and stderr as they were written, interleaved. */
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  /** The exit code the command ends with. */
  exited: Promise<number>;
}

/**
 * Starts a CLI command in this process with only `env` (plus PATH and HOME). Without a TTY and with
 * an empty stdin; `interactive` tells the command a person is there, and keeps stdin open for the test
 * to type into (line prompts only: masked prompts need a real terminal, see `startCli`).
 */
export function startCliInProcess(
  args: string[],
  env: Record<string, string | undefined>,
  options: { interactive?: boolean } = {},
): InProcessCli {
  const both = watchedOutput();
  let stdout = "";
  let stderr = "";
  const stdin = new PassThrough();
  if (!options.interactive) stdin.end();
  const io = {
    stdin,
    stdout: capture((chunk) => {
      stdout += chunk.toString();
      both.append(chunk);
    }),
    stderr: capture((chunk) => {
      stderr += chunk.toString();
      both.append(chunk);
    }),
    interactive: options.interactive ?? false,
  };
  const exited = runCliMain(["node", "codex-proxy", ...args], io, cliEnv(env)).finally(() => stdin.end());
  return { stdin, output: both.output, stdout: () => stdout, stderr: () => stderr, waitFor: both.waitFor, exited };
}

/** Runs a CLI command in this process to its end (see `startCliInProcess`). */
export async function runCliInProcess(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const cli = startCliInProcess(args, env);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** Runs the built CLI as a process to its end, with no TTY. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 20_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const shellQuote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;

/**
 * Starts the built CLI as a process; with `terminal`, inside a pseudo-terminal made by util-linux
 * `script`, so that it sees a TTY on stdin and stdout (its output then has CRLF line ends).
 */
export function startCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { terminal?: boolean } = {},
): RunningCli {
  const command = [process.execPath, BIN, ...args];
  const child = options.terminal
    ? // A terminal size, or prompts wrap at every character of a 0-column terminal.
      spawn("script", ["-qfec", `stty cols 120 rows 40; ${command.map(shellQuote).join(" ")}`, "/dev/null"], {
        env: cliEnv({ TERM: "dumb", ...env }),
        stdio: ["pipe", "pipe", "pipe"],
      })
    : spawn(command[0]!, command.slice(1), { env: cliEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  const watched = watchedOutput();
  child.stdout.on("data", watched.append);
  child.stderr.on("data", watched.append);
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, output: watched.output, exited, waitFor: watched.waitFor };
}

/** A `serve` process started by `startServe`, with the URL its banner printed. */
export interface ServeProcess {
  cli: RunningCli;
  url: string;
}

/** Starts `codex-proxy serve --port 0` with `env` and waits for its banner; killed if it never comes. */
export async function startServe(env: Record<string, string | undefined>): Promise<ServeProcess> {
  const cli = startCli(["serve", "--port", "0"], env);
  try {
    return { cli, url: (await cli.waitFor(/listening on (http:\/\/\S+)/))[1]! };
  } catch (error) {
    cli.child.kill("SIGKILL");
    throw error;
  }
}

/** SIGTERM to each, then waits for all of them to exit. */
export async function stopServes(...servers: ServeProcess[]): Promise<void> {
  for (const server of servers) server.cli.child.kill("SIGTERM");
  await Promise.all(servers.map((server) => server.cli.exited));
}
