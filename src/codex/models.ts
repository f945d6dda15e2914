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

export const KNOWN_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"] as const;

/** Known efforts from least to most reasoning; unknown ones sort last. */
function effortRank(effort: string): number {
  const rank = (KNOWN_EFFORTS as readonly string[]).indexOf(effort);
  return rank === -1 ? KNOWN_EFFORTS.length : rank;
}

/**
 * The effort to send for what a client asked, given the model's supported
 * efforts (docs/protocol.md §4.4, §11). Every route and front calls this one
 * function, with the request's explicit effort when it has one, else the
 * model-name suffix's (an explicit effort beats a suffix).
 *
 * - a supported effort, or any effort for a model the catalogue does not
 *   know, passes as asked;
 * - `none` and `minimal` become the lowest effort the model supports (the
 *   backend refuses them on models that dropped them, and SDKs send `none`
 *   by default for gpt-5.x);
 * - `max` becomes the highest the model supports;
 * - anything else the model does not support gives undefined: the caller
 *   answers a 400 that lists the supported values.
 */
export function clampEffort(requested: string, model: CodexModel | undefined): string | undefined {
  if (!model || model.reasoningEfforts.includes(requested)) return requested;
  const supported = [...model.reasoningEfforts].sort((a, b) => effortRank(a) - effortRank(b));
  if (supported.length === 0) return undefined;
  if (requested === "none" || requested === "minimal") return supported[0];
  if (requested === "max") return supported.at(-1);
  return undefined;
}

/**
 * The supported effort closest to `requested` (ties go to the lower: cheaper, and never refused
 * for being above the model's range), for fronts whose clients name efforts without a model's list.
 */
export function nearestEffort(requested: string, model: CodexModel): string {
  const want = effortRank(requested);
  let best = model.reasoningEfforts[0] ?? requested;
  let bestDistance = Infinity;
  for (const effort of model.reasoningEfforts) {
    const distance = Math.abs(effortRank(effort) - want);
    if (distance < bestDistance) [best, bestDistance] = [effort, distance];
  }
  return best;
}

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

/**
 * A catalogue entry in the backend's shape for a built-in model: the fields
 * Codex clients read from `GET /models` (docs/protocol.md §4.5), with the
 * defaults the live catalogue uses where the built-in list knows nothing.
 */
export function toCatalogueEntry(model: CodexModel): Record<string, unknown> {
  return {
    slug: model.slug,
    display_name: model.displayName ?? model.slug,
    description: model.displayName ?? model.slug,
    visibility: model.visibility,
    priority: model.priority,
    supported_reasoning_levels: model.reasoningEfforts.map((effort) => ({ effort, description: effort })),
    default_reasoning_level: model.defaultEffort ?? "medium",
    support_verbosity: model.supportsVerbosity,
    default_verbosity: "low",
    supports_reasoning_summaries: model.supportsReasoningSummaries,
    default_reasoning_summary: "none",
    supports_parallel_tool_calls: model.supportsParallelToolCalls,
    input_modalities: model.inputModalities,
    shell_type: "shell_command",
    supported_in_api: true,
    context_window: 272000,
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
