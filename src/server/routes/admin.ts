/**
 * The admin API (docs/protocol.md §9): store credentials, read their status.
 * Fails closed: without ADMIN_API_KEY every admin route answers 503.
 */
import { decodeJwtClaims, readIdentity } from "../../auth/jwt.js";
import {
  credentialStatus,
  underCredentialLock,
  type CredentialStore,
  type StoredCredentials,
} from "../../credentials/types.js";
import { hasValidKey } from "../api-keys.js";
import { readJsonObject } from "../body.js";
import { ProxyError } from "../../core/errors.js";
import { checkAccountName, DEFAULT_ACCOUNT, InvalidAccountNameError } from "../../credentials/accounts.js";
import type { AccountSummary } from "../../pool/types.js";

/** Named accounts behind the admin API (the Worker's pool); `store` stays the default account's. */
export interface AdminAccounts {
  /** The store of one account other than the default one. */
  storeFor(name: string): CredentialStore;
  /** A push to `name` succeeded: list the account from now on. */
  added(name: string): Promise<void>;
  /** Every listed account, default first; never a token. */
  summaries(): Promise<AccountSummary[]>;
}

export interface AdminDeps {
  adminApiKey?: string;
  /** The default account's store. */
  store?: CredentialStore;
  accounts?: AdminAccounts;
  now: () => number;
  maxBodyBytes: number;
}

/** `?account=NAME` (omitted = the default account); a bad name is the caller's mistake (400). */
function accountParam(request: Request, deps: AdminDeps): string {
  const raw = new URL(request.url).searchParams.get("account");
  if (raw === null) return DEFAULT_ACCOUNT;
  let name: string;
  try {
    name = checkAccountName(raw);
  } catch (error) {
    if (error instanceof InvalidAccountNameError)
      throw new ProxyError(400, error.message, { param: "account", code: "invalid_account_name" });
    throw error;
  }
  if (name !== DEFAULT_ACCOUNT && !deps.accounts)
    throw new ProxyError(400, `This proxy keeps one account only; it cannot store the account "${name}".`, {
      param: "account",
      code: "accounts_not_supported",
    });
  return name;
}

async function requireAdmin(request: Request, deps: AdminDeps): Promise<CredentialStore> {
  if (!deps.adminApiKey) {
    throw new ProxyError(
      503,
      "admin API not configured: set the ADMIN_API_KEY secret (`wrangler secret put ADMIN_API_KEY`).",
      { type: "server_error", code: "admin_not_configured" },
    );
  }
  if (!(await hasValidKey(request.headers, deps.adminApiKey))) {
    throw new ProxyError(
      401,
      "Missing or invalid admin key. Send ADMIN_API_KEY as `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
      { code: "invalid_api_key" },
    );
  }
  if (!deps.store || deps.store.readOnly) {
    throw new ProxyError(
      503,
      "This proxy takes its credentials from the environment; the admin API cannot change them.",
      { type: "server_error", code: "store_read_only" },
    );
  }
  return deps.store;
}

function requiredString(body: Record<string, unknown>, field: string, problems: string[]): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === ""))
    problems.push(`${field} is missing`);
  else if (typeof value !== "string") problems.push(`${field} must be a string`);
  else return value;
  return undefined;
}

/** Access tokens live days, not years: an expiry further ahead is a unit mistake. */
const MAX_EXPIRY_AHEAD_MS = 366 * 24 * 60 * 60_000;

/** The pushed record; no `lastRefresh`, since pushing is not a refresh (status would show one that never happened). */
function parseCredentialsBody(body: Record<string, unknown>, now: number): StoredCredentials {
  const problems: string[] = [];
  const accessToken = requiredString(body, "accessToken", problems);
  const refreshToken = requiredString(body, "refreshToken", problems);
  // The backend only takes ChatGPT's JWT access tokens: anything else would replace a working chain with a dead one.
  if (accessToken !== undefined && typeof decodeJwtClaims(accessToken)?.exp !== "number")
    problems.push("accessToken must be a ChatGPT access token (a JWT with an exp claim)");
  const expiresAt = body.expiresAt;
  if (expiresAt === undefined || expiresAt === null) problems.push("expiresAt is missing");
  else if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt) || expiresAt <= 0)
    problems.push("expiresAt must be a positive number of epoch milliseconds");
  else if (expiresAt < 1e11) problems.push("expiresAt looks like seconds; send epoch milliseconds (seconds × 1000)");
  else if (expiresAt > now + MAX_EXPIRY_AHEAD_MS)
    problems.push("expiresAt is more than a year ahead; send epoch milliseconds (not microseconds)");
  for (const optional of ["userID", "accountId"]) {
    if (body[optional] !== undefined && body[optional] !== null && typeof body[optional] !== "string")
      problems.push(`${optional} must be a string`);
  }
  if (problems.length > 0) {
    const missing = problems.filter((p) => p.endsWith("is missing")).map((p) => p.split(" ")[0]);
    const param = problems[0]!.split(" ")[0]!;
    const message = missing.length ? `Missing required fields: ${missing.join(", ")}.` : "";
    throw new ProxyError(400, `${message} ${problems.filter((p) => !p.endsWith("is missing")).join("; ")}`.trim(), {
      param,
    });
  }
  const identity = readIdentity(accessToken);
  return {
    accessToken: accessToken!,
    refreshToken: refreshToken!,
    expiresAt: expiresAt as number,
    accountId: (body.accountId as string | undefined) || identity.accountId,
    userId: identity.userId ?? ((body.userID as string | undefined) || undefined),
    email: identity.email,
    plan: identity.plan,
  };
}

export async function handleSetCredentials(request: Request, deps: AdminDeps): Promise<Response> {
  const defaultStore = await requireAdmin(request, deps);
  const account = accountParam(request, deps);
  const body = await readJsonObject(request, deps.maxBodyBytes);
  const credentials = parseCredentialsBody(body, deps.now());
  const store = account === DEFAULT_ACCOUNT || !deps.accounts ? defaultStore : deps.accounts.storeFor(account);
  // Under the lock shared with refreshes: a refresh in flight finishes first and cannot revert the push.
  await underCredentialLock(store, () => store.set(credentials));
  // Listed only once it holds a login, so the list never names an empty account.
  await deps.accounts?.added(account);
  return Response.json({ status: "success", message: "Credentials updated successfully" });
}

/** The default account's status in its original shape, plus `accounts` (possibly empty) where the admin API knows accounts (the Worker): `push-credentials --name` checks for it. */
export async function handleCredentialStatus(request: Request, deps: AdminDeps): Promise<Response> {
  const store = await requireAdmin(request, deps);
  const status = credentialStatus(await store.get(), deps.now());
  const accounts = (await deps.accounts?.summaries()) ?? [];
  if (deps.accounts) status.accounts = accounts;
  return Response.json(status);
}
