/**
 * The command tree. Commander sees every command, option and description
 * here, so `--help` is complete; each action imports its command's module only
 * when that command runs, so that `--help` or `status` never load the server,
 * the login prompts or the browser opener. The logic behind each command is a
 * plain `runX` function in its own file, which tests call without argv.
 * `runCli` is what `bin/codex-proxy.mjs` runs, and what tests run in-process
 * with their own streams and environment.
 */
import { Command, CommanderError } from "commander";
import type { EnvRecord } from "../core/config.js";
import { VERSION } from "../core/version.js";
import { type CliIO, type CommandContext, resolveIO } from "./io.js";
import { LOGIN_TIMEOUT_DEFAULT_S } from "./defaults.js";
import type { AccountsListOptions, AccountsRemoveOptions } from "./accounts.js";
import type { LoginOptions } from "./login.js";
import type { LogoutOptions } from "./logout.js";
import type { PushOptions } from "./push-credentials.js";
import type { ServeOptions } from "./serve.js";
import type { StatusOptions } from "./status.js";

function loginCommand({ io, env, setExitCode }: CommandContext): Command {
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
    .option(
      "--expires-at <time>",
      "access-token expiry: epoch ms, epoch seconds (values below 1e12 are read as seconds) or an ISO date (default: read from the token)",
    )
    .option("--account-id <id>", "ChatGPT account id (default: read from the token)")
    .option("--no-browser", "print the sign-in URL instead of opening a browser")
    .option("--timeout <seconds>", `how long to wait for the browser sign-in (default ${LOGIN_TIMEOUT_DEFAULT_S})`)
    .option("--name <name>", "store the login as this account of the pool (default: the default account)")
    .action(async (options: LoginOptions) => {
      const { runLogin } = await import("./login.js");
      setExitCode(await runLogin(options, env, io));
    });
}

function statusCommand({ io, env, setExitCode }: CommandContext): Command {
  return new Command("status")
    .description(
      "Show the credentials serve would use: account, plan and expiry (exit 1 when missing, expired or unusable)",
    )
    .option("--json", "print the status as JSON")
    .option("--worker-url <url>", "read the status of a deployed Worker instead")
    .option("--admin-key <key>", "the Worker's ADMIN_API_KEY (else $ADMIN_API_KEY, else a prompt)")
    .action(async (options: StatusOptions) => {
      const { runStatus } = await import("./status.js");
      setExitCode(await runStatus(options, env, io));
    });
}

function logoutCommand({ io, env, setExitCode }: CommandContext): Command {
  return new Command("logout")
    .description("Remove the stored credentials (best-effort revoke upstream)")
    .option("--name <name>", "remove this account of the pool instead of the default one")
    .action(async (options: LogoutOptions) => {
      const { runLogout } = await import("./logout.js");
      setExitCode(await runLogout(env, io, options));
    });
}

function accountsCommand({ io, env, setExitCode }: CommandContext): Command {
  const accounts = new Command("accounts").description(
    "List and manage the pool's accounts (add one with `login --name NAME`)",
  );
  accounts
    .command("list", { isDefault: true })
    .description("List the accounts: email, plan, token expiry, usage last seen, cooldowns, hand-offs")
    .option("--json", "print the accounts as JSON")
    .action(async (options: AccountsListOptions) => {
      const { runAccountsList } = await import("./accounts.js");
      setExitCode(await runAccountsList(options, env, io));
    });
  accounts
    .command("remove")
    .description("Remove an account (revoking its tokens unless handed off to a Worker)")
    .argument("<name>", "the account")
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (name: string, options: AccountsRemoveOptions) => {
      const { runAccountsRemove } = await import("./accounts.js");
      setExitCode(await runAccountsRemove(name, options, env, io));
    });
  accounts
    .command("rename")
    .description("Rename an account, keeping its tokens and usage (refused when NEW exists)")
    .argument("<old>", "the account's name")
    .argument("<new>", "its new name")
    .action(async (from: string, to: string) => {
      const { runAccountsRename } = await import("./accounts.js");
      setExitCode(await runAccountsRename(from, to, env, io));
    });
  for (const [verb, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const)
    accounts
      .command(verb)
      .description(
        disabled ? "Leave an account out of the pool, keeping its tokens" : "Put a disabled account back in the pool",
      )
      .argument("<name>", "the account")
      .action(async (name: string) => {
        const { runAccountsSetDisabled } = await import("./accounts.js");
        setExitCode(await runAccountsSetDisabled(name, disabled, env, io));
      });
  return accounts;
}

function serveCommand({ io, env }: CommandContext): Command {
  return new Command("serve")
    .description("Start the local OpenAI-compatible proxy (PORT, HOST; default 127.0.0.1:8080)")
    .option("-p, --port <port>", "port to listen on (default: $PORT or 8080)")
    .option("-H, --host <host>", "address to bind (default: $HOST or 127.0.0.1)")
    .option("--insecure-no-auth", "allow a non-loopback host without PROXY_API_KEY (dangerous)")
    .action(async (options: ServeOptions) => {
      const { runServe } = await import("./serve.js");
      await runServe(options, env, io);
    });
}

function pushCredentialsCommand({ io, env, setExitCode }: CommandContext): Command {
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
    .option("--name <name>", "push this account of the pool (the Worker stores it under the same name)")
    .action(async (options: PushOptions) => {
      const { runPushCredentials } = await import("./push-credentials.js");
      setExitCode(await runPushCredentials(options, env, Date.now, io));
    });
}

export function createProgram(context: CommandContext): Command {
  const { stdout, stderr } = resolveIO(context.io);
  const program = new Command("codex-proxy")
    .description("Use your ChatGPT subscription's Codex backend through the standard OpenAI APIs.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .addCommand(loginCommand(context))
    .addCommand(statusCommand(context))
    .addCommand(logoutCommand(context))
    .addCommand(accountsCommand(context))
    .addCommand(serveCommand(context))
    .addCommand(pushCredentialsCommand(context));
  // Usage errors, --help and --version end in an exit code rather than process.exit, and write
  // to the context's streams: subcommands added with addCommand do not inherit these settings.
  const everyCommand = (command: Command): Command[] => [command, ...command.commands.flatMap(everyCommand)];
  for (const command of everyCommand(program)) {
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
