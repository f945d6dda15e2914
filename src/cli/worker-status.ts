/** `status --worker-url`: the same views as local status, read from the Worker's admin API. */
import { renderStatus } from "./format.js";
import { type CliIO, processIO } from "./io.js";
import { fetchWorkerStatus, normaliseWorkerUrl, resolveAdminKey } from "./worker-client.js";

export interface WorkerStatusOptions {
  workerUrl: string;
  adminKey?: string;
  json?: boolean;
}

/** Prints the Worker's status (human or JSON); returns the exit code: 0 usable, 1 missing or expired. */
export async function readWorkerStatus(
  options: WorkerStatusOptions,
  env: Record<string, string | undefined> = process.env,
  now = Date.now(),
  io: CliIO = processIO(),
): Promise<number> {
  const url = normaliseWorkerUrl(options.workerUrl);
  const key = await resolveAdminKey(options.adminKey, env, io);
  const status = await fetchWorkerStatus(url, key);
  const human = status.hasCredentials
    ? renderStatus(status, now, { source: url })
    : `No credentials in the Worker at ${url}. Give it a login: \`codex-proxy push-credentials --worker-url ${url}\` (or add --login).`;
  io.stdout.write(`${options.json ? JSON.stringify(status, null, 2) : human}\n`);
  return status.hasCredentials && !status.isExpired ? 0 : 1;
}
