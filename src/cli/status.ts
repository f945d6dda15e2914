/**
 * `codex-proxy status`: reads the stored credentials (never refreshes) and
 * shows them in the admin status shape; `--worker-url` reads a Worker's.
 */
import { credentialStatus } from "../credentials/types.js";
import { openCredentialStore } from "./credential-store.js";
import { renderStatus } from "./format.js";
import { readWorkerStatus } from "./worker-status.js";

export interface StatusOptions {
  json?: boolean;
  workerUrl?: string;
  adminKey?: string;
}

/** Prints the status; returns the exit code (0 usable, 1 missing or expired). */
export async function runStatus(options: StatusOptions, env = process.env, now = Date.now()): Promise<number> {
  if (options.workerUrl)
    return readWorkerStatus({ workerUrl: options.workerUrl, adminKey: options.adminKey, json: options.json }, env);
  const store = openCredentialStore(env);
  const credentials = await store.get();
  const status = credentialStatus(credentials, now);
  const rateLimits = await store.getRateLimits();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rateLimits ? { ...status, rateLimits } : status, null, 2)}\n`);
  } else {
    process.stdout.write(`${renderStatus(status, now, { source: store.path, rateLimits })}\n`);
  }
  return status.hasCredentials && !status.isExpired ? 0 : 1;
}
