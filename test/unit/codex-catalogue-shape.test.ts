import { describe, expect, it } from "vitest";
import { FALLBACK_MODELS, parseCatalogueEntry, toCatalogueEntry } from "../../src/codex/models.js";

describe("built-in models in the backend's catalogue shape", () => {
  it("reads back as the same model, so the fallback serves Codex clients the same facts", () => {
    for (const model of FALLBACK_MODELS) {
      const parsed = parseCatalogueEntry(toCatalogueEntry(model));
      expect(parsed).toMatchObject({
        slug: model.slug,
        reasoningEfforts: model.reasoningEfforts,
        visibility: model.visibility,
        priority: model.priority,
      });
    }
  });
});
