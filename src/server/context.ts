/**
 * What every route needs, built once by `createApp` from its dependencies.
 */
import type { CodexClient } from "../codex/client.js";
import type { ModelCatalogue } from "../codex/model-catalogue.js";
import type { ProxyConfig } from "../core/config.js";
import type { CredentialStore } from "../credentials/types.js";
import type { StreamRuntime } from "./stream-runtime.js";
import type { AccountPool, Selection } from "../pool/account-pool.js";
import type { Logger } from "../core/logging.js";

export interface RouteContext {
  config: ProxyConfig;
  client: CodexClient;
  catalogue: ModelCatalogue;
  /** The accounts; every upstream call goes through it. */
  pool: AccountPool;
  store?: CredentialStore;
  logger: Logger;
  now: () => number;
  /** Random ids for chat completions; injectable so tests are deterministic. */
  newId: () => string;
  /** How request bodies and upstream event streams are read (Node reads its own messages). */
  streams: StreamRuntime;
}

/** Per-request facts the access log line reports. */
export interface RequestLogInfo {
  model?: string;
  stream?: boolean;
  /** The pool account that served the request. */
  account?: string;
}

/** The header with which a request pins its account. */
const ACCOUNT_HEADER = "x-codex-account";

/** How `request` wants its account chosen: its pin header, else its conversation. */
export function poolSelection(request: Request, conversation: string | undefined): Selection {
  const pin = request.headers.get(ACCOUNT_HEADER)?.trim();
  return { pin: pin ? pin : undefined, conversation };
}
