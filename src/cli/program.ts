/**
 * The command tree. Each command lives in its own file and exports a
 * commander `Command`; the logic behind it is a plain function that tests call
 * without argv.
 */
import { Command } from "commander";
import { VERSION } from "../core/version.js";
import { loginCommand } from "./login.js";
import { logoutCommand } from "./logout.js";
import { pushCredentialsCommand } from "./push-credentials.js";
import { serveCommand } from "./serve.js";
import { statusCommand } from "./status.js";

export function createProgram(): Command {
  const program = new Command("codex-proxy")
    .description("Use your ChatGPT subscription's Codex backend through the standard OpenAI APIs.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .addCommand(loginCommand())
    .addCommand(statusCommand())
    .addCommand(logoutCommand())
    .addCommand(serveCommand())
    .addCommand(pushCredentialsCommand());
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  const program = createProgram();
  const args = argv.slice(2);
  // Bare `codex-proxy` is a question, not a mistake: the commands, exit 0.
  if (args.length === 0) {
    program.outputHelp();
    return;
  }
  // -V is commander's spelling; -v, the other common one, was the only one before.
  if (args.length === 1 && args[0] === "-v") args[0] = "-V";
  await program.parseAsync([...argv.slice(0, 2), ...args]);
}
