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
    .version(VERSION, "-v, --version")
    .showHelpAfterError()
    .addCommand(loginCommand())
    .addCommand(statusCommand())
    .addCommand(logoutCommand())
    .addCommand(serveCommand())
    .addCommand(pushCredentialsCommand());
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  await createProgram().parseAsync(argv);
}
