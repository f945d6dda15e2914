/**
 * Where a command reads and writes, so that tests run it in-process with
 * their own streams, environment and clock instead of spawning the CLI.
 */
import type { Readable, Writable } from "node:stream";
import type { EnvRecord } from "../core/config.js";

export interface CliIO {
  stdout?: Writable;
  stderr?: Writable;
  /** Read by prompts and the pasted-redirect question. */
  stdin?: Readable;
  /** Whether prompts may be shown; by default, when stdin and stdout are terminals. */
  interactive?: boolean;
  now?: () => number;
}

export interface ResolvedIO {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  interactive: boolean;
  now: () => number;
}

export function resolveIO(io: CliIO = {}): ResolvedIO {
  return {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    stdin: io.stdin ?? process.stdin,
    interactive: io.interactive ?? Boolean(process.stdin.isTTY && process.stdout.isTTY),
    now: io.now ?? Date.now,
  };
}

/** What every command runs with: its streams and environment, and where its exit code goes. */
export interface CommandContext {
  io: CliIO;
  env: EnvRecord;
  setExitCode(code: number): void;
}
