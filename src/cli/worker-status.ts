/** `status --worker-url`: the same views as local status, read from the Worker's admin API. */
import type { Writable } from "node:stream";
import { renderStatus, unusableReason } from "./format.js";
import { fetchWorkerStatus, normaliseWorkerUrl, resolveAdminKey } from "./worker-client.js";

export interface WorkerStatusOptions {
  workerUrl: string;
  adminKey?: string;
  json?: boolean;
}

/** Prints the Worker's status (human or JSON); returns the exit code: 0 usable, 1 missing, expired or unrenewable. */
export async function readWorkerStatus(
  options: WorkerStatusOptions,
  env: Record<string, string | undefined> = process.env,
  { stdout = process.stdout, now = Date.now() }: { stdout?: Writable; now?: number } = {},
): Promise<number> {
  const url = normaliseWorkerUrl(options.workerUrl);
  const key = await resolveAdminKey(options.adminKey, env);
  const status = await fetchWorkerStatus(url, key);
  const problem = unusableReason(status, now);
  const human = status.hasCredentials
    ? renderStatus(status, now, { source: url, problem })
    : `No credentials in the Worker at ${url}. Give it a login: \`codex-proxy push-credentials --worker-url ${url}\` (or add --login).`;
  stdout.write(`${options.json ? JSON.stringify(status, null, 2) : human}\n`);
  return status.hasCredentials && !status.isExpired && !problem ? 0 : 1;
}
