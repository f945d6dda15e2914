/**
 * The live model catalogue (`GET /models?client_version=…`), cached for an
 * hour, with the built-in list as fallback when it cannot be read (retried
 * after a minute). Concurrent callers share one fetch.
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
  private inflight: Promise<readonly CodexModel[]> | undefined;

  constructor(private readonly deps: ModelCatalogueDeps) {}

  /** All models (listed and hidden), never throwing. */
  async models(): Promise<readonly CodexModel[]> {
    if (this.cached && this.deps.now() < this.expiresAt) return this.cached;
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /**
   * The catalogue in the backend's own shape (`GET /models` entries), which
   * Codex clients read: the live entries as they came, or entries built from
   * the built-in list when the live catalogue could not be read.
   */
  async codexEntries(): Promise<Record<string, unknown>[]> {
    const models = await this.models();
    if (this.cachedEntries && models !== FALLBACK_MODELS) return [...this.cachedEntries];
    return models.map(toCatalogueEntry);
  }

  /** Models a client should see: visibility `list`, by priority. */
  async listed(): Promise<CodexModel[]> {
    return (await this.models()).filter((m) => m.visibility === "list").sort((a, b) => a.priority - b.priority);
  }

  private async load(): Promise<readonly CodexModel[]> {
    try {
      const raw = (await this.deps.fetchCatalogue()) as { models?: unknown };
      const entries = Array.isArray(raw?.models)
        ? (raw.models as unknown[]).filter((entry) => parseCatalogueEntry(entry) !== undefined)
        : [];
      const models = entries.map(parseCatalogueEntry).filter((m): m is CodexModel => m !== undefined);
      if (models.length === 0) throw new Error("the catalogue was empty");
      this.cached = models;
      this.cachedEntries = entries as Record<string, unknown>[];
      this.expiresAt = this.deps.now() + TTL_MS;
      return models;
    } catch (error) {
      this.deps.logger.warn("could not read the model catalogue; using the built-in list", {
        reason: error instanceof Error ? error.message : "unknown",
      });
      // Keep a previously fetched list over the built-in one; retry soon either way.
      this.cached ??= FALLBACK_MODELS;
      this.expiresAt = this.deps.now() + RETRY_MS;
      return this.cached;
    }
  }
}
