/** `status --worker-url`: the same views as local status, read from the Worker's admin API. */
import { renderStatus } from "./format.js";
import { fetchWorkerStatus, normaliseWorkerUrl, resolveAdminKey } from "./worker-client.js";

export interface WorkerStatusOptions {
  workerUrl: string;
  adminKey?: string;
  json?: boolean;
}

export async function readWorkerStatus(options: WorkerStatusOptions, env: Record<string, string | undefined>, now = Date.now()): Promise<number> {
  const url = normaliseWorkerUrl(options.workerUrl);
  const key = await resolveAdminKey(options.adminKey, env);
  const status = await fetchWorkerStatus(url, key);
  process.stdout.write((options.json ? JSON.stringify(status, null, 2) : renderStatus(status, now, { source: url })) + "\n");
  return status.hasCredentials && !status.isExpired ? 0 : 1;
}
