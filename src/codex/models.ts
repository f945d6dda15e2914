/**
 * Model metadata and name resolution. Pure: the live catalogue is fetched by
 * `model-catalogue.ts`; this file only knows shapes and rules.
 */

export interface CodexModel {
  slug: string;
  displayName?: string;
  visibility: "list" | "hide";
  priority: number;
  /** Allowed `reasoning.effort` values, in the catalogue's order. */
  reasoningEfforts: string[];
  defaultEffort?: string;
  supportsVerbosity: boolean;
  supportsReasoningSummaries: boolean;
  supportsParallelToolCalls: boolean;
  inputModalities: string[];
}

const ALL_EFFORTS = ["low", "medium", "high", "xhigh"];

function builtin(slug: string, priority: number, extra: Partial<CodexModel> = {}): CodexModel {
  return {
    slug,
    visibility: "list",
    priority,
    reasoningEfforts: ALL_EFFORTS,
    defaultEffort: "medium",
    supportsVerbosity: true,
    supportsReasoningSummaries: true,
    supportsParallelToolCalls: true,
    inputModalities: ["text", "image"],
    ...extra,
  };
}

/** Used when the live catalogue cannot be read (docs/protocol.md §8.1 snapshot). */
export const FALLBACK_MODELS: readonly CodexModel[] = [
  builtin("gpt-5.6-sol", 1, {
    reasoningEfforts: ["low", "medium", "high", "xhigh", "max", "ultra"],
    defaultEffort: "low",
  }),
  builtin("gpt-5.6-terra", 2, { reasoningEfforts: ["low", "medium", "high", "xhigh", "max", "ultra"] }),
  builtin("gpt-5.6-luna", 3, { reasoningEfforts: ["low", "medium", "high", "xhigh", "max"] }),
  builtin("gpt-5.5", 4),
  builtin("gpt-5.4", 5),
  builtin("gpt-5.4-mini", 6),
  builtin("gpt-5.3-codex-spark", 7, { defaultEffort: "high", inputModalities: ["text"] }),
];

interface RawReasoningLevel {
  effort?: unknown;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Turns one entry of `GET /codex/models` into a `CodexModel`, or undefined when unusable. */
export function parseCatalogueEntry(raw: unknown): CodexModel | undefined {
  const entry = asRecord(raw);
  if (!entry || typeof entry.slug !== "string" || !entry.slug) return undefined;
  const levels = Array.isArray(entry.supported_reasoning_levels)
    ? (entry.supported_reasoning_levels as RawReasoningLevel[])
    : [];
  const efforts = levels
    .map((level) => (typeof level === "string" ? level : level?.effort))
    .filter((e): e is string => typeof e === "string");
  const modalities = Array.isArray(entry.input_modalities)
    ? entry.input_modalities.filter((m): m is string => typeof m === "string")
    : ["text", "image"];
  return {
    slug: entry.slug,
    displayName: typeof entry.display_name === "string" ? entry.display_name : undefined,
    visibility: entry.visibility === "hide" ? "hide" : "list",
    priority: typeof entry.priority === "number" ? entry.priority : 1000,
    reasoningEfforts: efforts.length > 0 ? efforts : ALL_EFFORTS,
    defaultEffort: typeof entry.default_reasoning_level === "string" ? entry.default_reasoning_level : undefined,
    supportsVerbosity: entry.support_verbosity !== false,
    supportsReasoningSummaries: entry.supports_reasoning_summaries !== false,
    supportsParallelToolCalls: entry.supports_parallel_tool_calls !== false,
    inputModalities: modalities.length > 0 ? modalities : ["text"],
  };
}

export interface ResolvedModel {
  /** The slug sent upstream. */
  slug: string;
  /** Effort taken from a suffix such as `gpt-5.5-high`, if any. */
  effort?: string;
  /** Catalogue entry, when the slug is known. */
  model?: CodexModel;
}

const ALIASES: Record<string, string> = {
  "gpt5.5": "gpt-5.5",
  "gpt-5.5-latest": "gpt-5.5",
  "gpt5.4": "gpt-5.4",
  "gpt-5.4-latest": "gpt-5.4",
};

/**
 * Resolves what a client asked for against the catalogue: exact slugs, a few
 * aliases, `-latest`, and effort suffixes `<slug>-high`, `<slug>_high`,
 * `<slug>:high`. Unknown names pass through unchanged so the upstream can
 * answer with its own message.
 */
export function resolveModel(
  requested: string | undefined,
  models: readonly CodexModel[],
  defaultModel: string,
): ResolvedModel {
  const name = (requested?.trim() || defaultModel).toLowerCase();
  const bySlug = new Map(models.map((m) => [m.slug.toLowerCase(), m] as const));
  const direct = bySlug.get(name) ?? bySlug.get(ALIASES[name] ?? "") ?? bySlug.get(name.replace(/-latest$/, ""));
  if (direct) return { slug: direct.slug, model: direct };

  const suffix = /^(.*?)[-_:](none|minimal|low|medium|high|xhigh|max|ultra)$/.exec(name);
  if (suffix) {
    const [, base, effort] = suffix;
    const baseModel = bySlug.get(base!) ?? bySlug.get(ALIASES[base!] ?? "");
    if (baseModel) return { slug: baseModel.slug, effort, model: baseModel };
  }
  return { slug: requested?.trim() || defaultModel };
}
