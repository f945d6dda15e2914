/**
 * The command tree. Each command lives in its own file and exports a
 * commander `Command`; the logic behind it is a plain function that tests call
 * without argv. `runCli` is what `bin/codex-proxy.mjs` runs, and what tests run
 * in-process with their own streams and environment.
 */
import { Command, CommanderError } from "commander";
import type { EnvRecord } from "../core/config.js";
import { VERSION } from "../core/version.js";
import { type CliIO, type CommandContext, resolveIO } from "./io.js";
import { loginCommand } from "./login.js";
import { logoutCommand } from "./logout.js";
import { pushCredentialsCommand } from "./push-credentials.js";
import { serveCommand } from "./serve.js";
import { statusCommand } from "./status.js";

export function createProgram(context: CommandContext): Command {
  const { stdout, stderr } = resolveIO(context.io);
  const program = new Command("codex-proxy")
    .description("Use your ChatGPT subscription's Codex backend through the standard OpenAI APIs.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .addCommand(loginCommand(context))
    .addCommand(statusCommand(context))
    .addCommand(logoutCommand(context))
    .addCommand(serveCommand(context))
    .addCommand(pushCredentialsCommand(context));
  // Usage errors, --help and --version end in an exit code rather than process.exit, and write
  // to the context's streams: subcommands added with addCommand do not inherit these settings.
  for (const command of [program, ...program.commands]) {
    command.exitOverride().configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
    });
  }
  return program;
}

/** Runs the CLI on `argv` (node, script, args…); resolves with the exit code, having printed any error. */
export async function runCli(argv: string[], io: CliIO = {}, env: EnvRecord = process.env): Promise<number> {
  let exitCode = 0;
  const program = createProgram({ io, env, setExitCode: (code) => (exitCode = code) });
  const args = argv.slice(2);
  // Bare `codex-proxy` is a question, not a mistake: the commands, exit 0.
  if (args.length === 0) {
    program.outputHelp();
    return 0;
  }
  // -V is commander's spelling; -v, the other common one, was the only one before.
  if (args.length === 1 && args[0] === "-v") args[0] = "-V";
  try {
    await program.parseAsync([...argv.slice(0, 2), ...args]);
    return exitCode;
  } catch (error) {
    // Commander has already printed its own message (or the help and version it was asked for).
    if (error instanceof CommanderError) return error.exitCode;
    resolveIO(io).stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
