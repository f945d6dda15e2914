/** Opens the stored-credentials file the CLI commands share, honouring CODEX_PROXY_HOME. */
import type { EnvRecord } from "../core/config.js";
import { ConfCredentialStore } from "../node/conf-store.js";
import { UsageFileStore } from "../node/usage-store.js";

export function openCredentialStore(env: EnvRecord = process.env): ConfCredentialStore {
  const home = env.CODEX_PROXY_HOME?.trim();
  return new ConfCredentialStore({ cwd: home || undefined });
}

/** usage.json, beside the credential file. */
export function openUsageStore(credentials: ConfCredentialStore): UsageFileStore {
  return new UsageFileStore({ cwd: credentials.directory });
}
