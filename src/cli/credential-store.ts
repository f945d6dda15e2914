/** Opens the stored-credentials files the CLI commands share, honouring CODEX_PROXY_HOME. */
import type { EnvRecord } from "../core/config.js";
import { NodeAccountDirectory } from "../node/account-directory.js";
import { ConfCredentialStore } from "../node/conf-store.js";
import { UsageFileStore } from "../node/usage-store.js";

function homeOf(env: EnvRecord): string | undefined {
  return env.CODEX_PROXY_HOME?.trim() || undefined;
}

export function openCredentialStore(env: EnvRecord = process.env): ConfCredentialStore {
  return new ConfCredentialStore({ cwd: homeOf(env) });
}

/** usage.json, beside the credential file. */
export function openUsageStore(credentials: ConfCredentialStore): UsageFileStore {
  return new UsageFileStore({ cwd: credentials.directory });
}

/**
 * Every account's credential file (the default one is credentials.json). Opening the directory
 * reads nothing: a corrupt default file does not stop commands about the other accounts.
 */
export function openAccountDirectory(env: EnvRecord = process.env): NodeAccountDirectory {
  return new NodeAccountDirectory(homeOf(env));
}

/** usage.json of the pool in `directory` (NodeAccountDirectory.directory). */
export function openPoolUsage(directory: NodeAccountDirectory): UsageFileStore {
  return new UsageFileStore({ cwd: directory.directory });
}
