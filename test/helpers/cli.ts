/** Runs the built CLI (`bin/codex-proxy.mjs`) the way a user does: with no TTY, or in a pseudo-terminal. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
 * Starts the CLI; with `terminal`, inside a pseudo-terminal made by util-linux
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
  let output = "";
  const listeners: Array<() => void> = [];
  const onData = (c: Buffer) => {
    output += c.toString();
    for (const l of listeners.splice(0)) l();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return {
    child,
    output: () => output,
    exited,
    waitFor: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
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
