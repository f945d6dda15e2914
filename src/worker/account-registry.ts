/**
 * The list of accounts a Worker holds (names and disabled flags). Its truth
 * is the default account's Durable Object (strongly consistent, one writer);
 * KV holds a copy that isolates read on the hot path.
 */
import { DEFAULT_ACCOUNT } from "../credentials/accounts.js";

export interface RegistryEntry {
  name: string;
  disabled?: boolean;
}

/** `default` first, then by name: the order every account list uses. */
function sortRegistry(entries: RegistryEntry[]): RegistryEntry[] {
  return [...entries].sort((a, b) =>
    a.name === b.name ? 0 : a.name === DEFAULT_ACCOUNT ? -1 : b.name === DEFAULT_ACCOUNT ? 1 : a.name < b.name ? -1 : 1,
  );
}

/** Adds the account, or updates its disabled flag when one is given. */
export function upsertEntry(entries: RegistryEntry[], update: RegistryEntry): RegistryEntry[] {
  const existing = entries.find((entry) => entry.name === update.name);
  const merged: RegistryEntry = { name: update.name };
  const disabled = update.disabled ?? existing?.disabled;
  if (disabled) merged.disabled = true;
  return sortRegistry([...entries.filter((entry) => entry.name !== update.name), merged]);
}

/** A registry read back from KV; anything unreadable counts as absent. */
export function parseRegistry(text: string | null): RegistryEntry[] | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as { accounts?: unknown };
    if (!Array.isArray(parsed?.accounts)) return undefined;
    return parsed.accounts.filter(
      (entry): entry is RegistryEntry => typeof (entry as RegistryEntry)?.name === "string",
    );
  } catch {
    return undefined;
  }
}
