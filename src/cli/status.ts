/**
 * `codex-proxy status`: reads the stored credentials (never refreshes) and
 * shows them in the admin status shape; `--worker-url` reads a Worker's.
 */
import { Command } from "commander";
import type { EnvRecord } from "../core/config.js";
import { credentialStatus } from "../credentials/types.js";
import { openCredentialStore } from "./credential-store.js";
import { renderStatus } from "./format.js";
import { type CliIO, type CommandContext, processIO } from "./io.js";
import { readWorkerStatus } from "./worker-status.js";

/** @public The options of the command's run function (what commander parses from argv). */
export interface StatusOptions {
  json?: boolean;
  workerUrl?: string;
  adminKey?: string;
}

/**
 * Prints the status; returns the exit code (0 usable, 1 missing or expired).
 * @public The command without argv, for callers other than its commander action.
 */
export async function runStatus(
  options: StatusOptions,
  env: EnvRecord = process.env,
  now = Date.now(),
  io: CliIO = processIO(),
): Promise<number> {
  if (options.workerUrl) {
    const { workerUrl, adminKey, json } = options;
    return readWorkerStatus({ workerUrl, adminKey, json }, env, now, io);
  }
  const store = openCredentialStore(env);
  const credentials = await store.get();
  const status = credentialStatus(credentials, now);
  const rateLimits = await store.getRateLimits();
  if (options.json) {
    io.stdout.write(`${JSON.stringify(rateLimits ? { ...status, rateLimits } : status, null, 2)}\n`);
  } else {
    io.stdout.write(`${renderStatus(status, now, { source: store.path, rateLimits })}\n`);
  }
  return status.hasCredentials && !status.isExpired ? 0 : 1;
}

export function statusCommand({ io, env, setExitCode }: CommandContext): Command {
  return new Command("status")
    .description("Show the stored credentials' account, plan and expiry (exit 1 when missing or expired)")
    .option("--json", "print the status as JSON")
    .option("--worker-url <url>", "read the status of a deployed Worker instead")
    .option("--admin-key <key>", "the Worker's ADMIN_API_KEY (else $ADMIN_API_KEY, else a prompt)")
    .action(async (options: StatusOptions) => {
      setExitCode(await runStatus(options, env, Date.now(), io));
    });
}
