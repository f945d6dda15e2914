/**
 * Where a command reads and writes: the process's own streams when run from
 * the shell, captured streams when a test runs it in-process.
 */
import type { Readable, Writable } from "node:stream";
import type { EnvRecord } from "../core/config.js";

export interface CliIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Both stdin and stdout are terminals: a person is there, so prompts may ask. */
  interactive: boolean;
}

export function processIO(): CliIO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  };
}

/** What every command runs with: its streams and environment, and where its exit code goes. */
export interface CommandContext {
  io: CliIO;
  env: EnvRecord;
  setExitCode(code: number): void;
}
