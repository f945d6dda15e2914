/**
 * What every route needs, built once by `createApp` from its dependencies.
 */
import type { CodexClient } from "../codex/client.js";
import type { ModelCatalogue } from "../codex/model-catalogue.js";
import type { RateLimitTracker } from "../codex/rate-limits.js";
import type { ProxyConfig } from "../core/config.js";
import type { AuthProvider, CredentialStore } from "../credentials/types.js";
import type { StreamRuntime } from "./stream-runtime.js";
import type { Logger } from "../core/logging.js";

export interface RouteContext {
  config: ProxyConfig;
  client: CodexClient;
  catalogue: ModelCatalogue;
  auth: AuthProvider;
  store?: CredentialStore;
  rateLimits: RateLimitTracker;
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
}
