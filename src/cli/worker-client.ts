/**
 * The admin API of a deployed Worker (or of `serve` with ADMIN_API_KEY), with
 * errors that say what went wrong: a bad URL, a wrong key, nothing answering,
 * or something that is not our API.
 */
import { password, isCancel } from "@clack/prompts";
import { describeNetworkError } from "../core/errors.js";
import type { CredentialStatus } from "../credentials/types.js";
import { type CliIO, resolveIO } from "./io.js";

export class WorkerError extends Error {}

export function normaliseWorkerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WorkerError(
      `"${raw}" is not a URL. Pass the Worker's address, e.g. --worker-url https://codex-proxy.<you>.workers.dev`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new WorkerError(`--worker-url must be an http(s) URL, not ${url.protocol}`);
  return url.origin + url.pathname.replace(/\/+$/, "");
}

export async function resolveAdminKey(
  given: string | undefined,
  env: Record<string, string | undefined>,
  cliIO: CliIO = {},
): Promise<string> {
  const key = given?.trim() || env.ADMIN_API_KEY?.trim();
  if (key) return key;
  const io = resolveIO(cliIO);
  if (io.interactive) {
    const answer = await password({ message: "The Worker's ADMIN_API_KEY", input: io.stdin, output: io.stdout });
    if (!isCancel(answer) && answer.trim()) return answer.trim();
  }
  throw new WorkerError("No admin key: pass --admin-key KEY or set ADMIN_API_KEY.");
}

async function call(url: string, key: string, init: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(20_000),
    });
  } catch (error) {
    throw new WorkerError(
      `Could not reach ${new URL(url).origin} (${describeNetworkError(error)}). Check the URL and that the Worker is deployed.`,
    );
  }
  // A 401 says the key is wrong whatever the body looks like.
  if (response.status === 401) {
    await response.body?.cancel();
    throw new WorkerError(
      "The Worker rejected the admin key (401). Check --admin-key / ADMIN_API_KEY against `wrangler secret put ADMIN_API_KEY`.",
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new WorkerError(
      `${url} answered HTTP ${response.status} with something that is not JSON: is this a codex-proxy Worker?`,
    );
  }
  if (response.status === 404)
    throw new WorkerError(`${url} does not exist (404): is this a codex-proxy Worker, with ADMIN_API_KEY set?`);
  if (!response.ok) {
    const message = (body as { error?: { message?: string } })?.error?.message ?? `HTTP ${response.status}`;
    throw new WorkerError(`The Worker answered: ${message}`);
  }
  return body;
}

export async function fetchWorkerStatus(workerUrl: string, key: string): Promise<CredentialStatus> {
  const body = await call(`${workerUrl}/admin/credentials/status`, key, { method: "GET" });
  if (!body || typeof body !== "object" || (body as { type?: unknown }).type !== "oauth")
    throw new WorkerError("The Worker's status answer has an unexpected shape.");
  return body as CredentialStatus;
}

export interface PushBody {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  userID?: string;
  accountId?: string;
}

/** Pushes a login; `account` names the pool's account it replaces (docs/protocol.md §9.2), the default one when absent. */
export async function pushCredentials(workerUrl: string, key: string, body: PushBody, account?: string): Promise<void> {
  const query = account === undefined ? "" : `?account=${encodeURIComponent(account)}`;
  await call(`${workerUrl}/admin/credentials${query}`, key, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}
