/**
 * The command tree. Commander sees every command, option and description
 * here, so `--help` is complete; each action imports its command's module
 * only when that command runs, so that `--help` or `status` never load the
 * server, the login prompts or the browser opener. The logic behind each
 * command is a plain function that tests call without argv.
 */
import { Command } from "commander";
import { VERSION } from "../core/version.js";
import type { LoginOptions } from "./login.js";
import type { PushOptions } from "./push-credentials.js";
import type { ServeOptions } from "./serve.js";
import type { StatusOptions } from "./status.js";

function loginCommand(): Command {
  return new Command("login")
    .description("Sign in to ChatGPT and store the OAuth tokens (browser by default)")
    .option("--device", "device-code login for machines without a browser")
    .option(
      "--import [file]",
      "import the Codex CLI's auth.json (default $CODEX_HOME/auth.json, else ~/.codex/auth.json)",
    )
    .option(
      "--no-refresh",
      "with --import: keep sharing the Codex CLI's token chain instead of forking one (not recommended)",
    )
    .option("--manual", "type or paste the tokens at prompts")
    .option("--access-token <token>", "store this access token (with --refresh-token), for scripts")
    .option("--refresh-token <token>", "the refresh token that goes with --access-token")
    .option("--expires-at <ms>", "access-token expiry in epoch ms (default: read from the token)")
    .option("--account-id <id>", "ChatGPT account id (default: read from the token)")
    .option("--no-browser", "print the sign-in URL instead of opening a browser")
    .option("--timeout <seconds>", "how long to wait for the browser sign-in", "300")
    .action(async (options: LoginOptions) => {
      const { runLogin } = await import("./login.js");
      process.exitCode = await runLogin(options);
    });
}

function statusCommand(): Command {
  return new Command("status")
    .description("Show the stored credentials' account, plan and expiry (exit 1 when missing or expired)")
    .option("--json", "print the status as JSON")
    .option("--worker-url <url>", "read the status of a deployed Worker instead")
    .option("--admin-key <key>", "the Worker's ADMIN_API_KEY (else $ADMIN_API_KEY, else a prompt)")
    .action(async (options: StatusOptions) => {
      const { runStatus } = await import("./status.js");
      process.exitCode = await runStatus(options);
    });
}

function logoutCommand(): Command {
  return new Command("logout")
    .description("Remove the stored credentials (best-effort revoke upstream)")
    .action(async () => {
      const { runLogout } = await import("./logout.js");
      process.exitCode = await runLogout();
    });
}

function serveCommand(): Command {
  return new Command("serve")
    .description("Start the local OpenAI-compatible proxy (PORT, HOST; default 127.0.0.1:8080)")
    .option("-p, --port <port>", "port to listen on (default: $PORT or 8080)")
    .option("-H, --host <host>", "address to bind (default: $HOST or 127.0.0.1)")
    .option("--insecure-no-auth", "allow a non-loopback host without PROXY_API_KEY (dangerous)")
    .action(async (options: ServeOptions) => {
      const { runServe } = await import("./serve.js");
      await runServe(options);
    });
}

function pushCredentialsCommand(): Command {
  return new Command("push-credentials")
    .alias("deploy")
    .description("Push the stored credentials to a deployed Cloudflare Worker and hand the token chain over to it")
    .requiredOption("--worker-url <url>", "URL of the deployed Worker")
    .option("--admin-key <key>", "the Worker's ADMIN_API_KEY (else $ADMIN_API_KEY, else a prompt)")
    .option("--login", "run a fresh login whose tokens go to the Worker only")
    .option("--device", "with --login: device-code login (for machines without a browser)")
    .option("--no-browser", "with --login: print the sign-in URL instead of opening a browser")
    .option("--keep-local", "keep refreshing the local copy too (both sides then rotate one chain: not recommended)")
    .option("--force", "push a chain that was already handed off before (it may have been rotated since)")
    .option("--json", "print the Worker's status as JSON")
    .action(async (options: PushOptions) => {
      const { runPushCredentials } = await import("./push-credentials.js");
      process.exitCode = await runPushCredentials(options);
    });
}

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
