/**
 * The live model catalogue (`GET /models?client_version=…`), cached for an
 * hour, with the built-in list as fallback when it cannot be read (retried
 * after a minute). Concurrent callers share one fetch. The list depends on
 * the account, so a caller that names the current account (`models(key)`)
 * gets a fresh fetch when it differs from the one the cache was filled for:
 * a login, a logout or another account shows at once.
 */
import type { Logger } from "../core/logging.js";
import { FALLBACK_MODELS, parseCatalogueEntry, toCatalogueEntry, type CodexModel } from "./models.js";

const TTL_MS = 60 * 60_000;
const RETRY_MS = 60_000;

export interface ModelCatalogueDeps {
  fetchCatalogue: () => Promise<unknown>;
  now: () => number;
  logger: Logger;
}

export class ModelCatalogue {
  private cached: readonly CodexModel[] | undefined;
  /** The live catalogue's entries as the backend sent them (those that parsed), for Codex clients. */
  private cachedEntries: readonly Record<string, unknown>[] | undefined;
  private expiresAt = 0;
  /** The account the cache was filled for (see `models`). */
  private cachedFor: string | undefined;
  private inflight: { key: string | undefined; models: Promise<readonly CodexModel[]> } | undefined;

  constructor(private readonly deps: ModelCatalogueDeps) {}

  /**
   * All models (listed and hidden), never throwing. `accountKey` names the
   * credentials in use (undefined: none); when given and different from the
   * ones the cache was filled with, the catalogue is fetched again.
   */
  async models(accountKey?: string | null): Promise<readonly CodexModel[]> {
    const key = accountKey === undefined ? this.cachedFor : (accountKey ?? undefined);
    if (this.cached && this.deps.now() < this.expiresAt && key === this.cachedFor) return this.cached;
    if (this.inflight && this.inflight.key === key) return this.inflight.models;
    const models = this.load(key).finally(() => {
      if (this.inflight?.models === models) this.inflight = undefined;
    });
    this.inflight = { key, models };
    return models;
  }

  /**
   * The catalogue in the backend's own shape (`GET /models` entries), which
   * Codex clients read: the live entries as they came, or entries built from
   * the built-in list when the live catalogue could not be read.
   */
  async codexEntries(accountKey?: string | null): Promise<Record<string, unknown>[]> {
    const models = await this.models(accountKey);
    if (this.cachedEntries && models !== FALLBACK_MODELS) return [...this.cachedEntries];
    return models.map(toCatalogueEntry);
  }

  /** Models a client should see: visibility `list`, by priority. */
  async listed(accountKey?: string | null): Promise<CodexModel[]> {
    return (await this.models(accountKey))
      .filter((m) => m.visibility === "list")
      .sort((a, b) => a.priority - b.priority);
  }

  private async load(key: string | undefined): Promise<readonly CodexModel[]> {
    let models: readonly CodexModel[];
    let liveEntries: readonly Record<string, unknown>[] | undefined;
    let ttl = TTL_MS;
    try {
      const raw = (await this.deps.fetchCatalogue()) as { models?: unknown };
      const entries = Array.isArray(raw?.models)
        ? (raw.models as unknown[]).filter((entry) => parseCatalogueEntry(entry) !== undefined)
        : [];
      models = entries.map(parseCatalogueEntry).filter((m): m is CodexModel => m !== undefined);
      if (models.length === 0) throw new Error("the catalogue was empty");
      liveEntries = entries as Record<string, unknown>[];
    } catch (error) {
      this.deps.logger.warn("could not read the model catalogue; using the built-in list", {
        reason: error instanceof Error ? error.message : "unknown",
      });
      // Keep a list fetched before for the same account over the built-in one; retry soon either way.
      models = (this.cachedFor === key ? this.cached : undefined) ?? FALLBACK_MODELS;
      liveEntries = models === this.cached ? this.cachedEntries : undefined;
      ttl = RETRY_MS;
    }
    // A load for other credentials may have started meanwhile: only the newest one fills the cache.
    if (!this.inflight || this.inflight.key === key) {
      this.cached = models;
      this.cachedEntries = liveEntries;
      this.cachedFor = key;
      this.expiresAt = this.deps.now() + ttl;
    }
    return models;
  }
}
