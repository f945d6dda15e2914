/**
 * Claude model names → catalogue models. Claude Code sends `claude-*` names
 * (`claude-opus-5-5`, `claude-haiku-4-5-20251001`, …); they are mapped by
 * family through ANTHROPIC_MODEL_MAP, with defaults taken from the live
 * catalogue. Catalogue ids (and their effort suffixes) pass through.
 */
import { resolveModel, type CodexModel, type ResolvedModel } from "../../codex/models.js";

export interface AnthropicModelContext {
  models: readonly CodexModel[];
  defaultModel: string;
  /** family → `model` or `model:effort` (ANTHROPIC_MODEL_MAP). */
  modelMap: Readonly<Record<string, string>>;
}

export interface AnthropicModelChoice extends ResolvedModel {
  /** The family the Claude name was mapped by, when it was one. */
  family?: string;
}

const KNOWN_FAMILIES = ["opus", "sonnet", "haiku", "fable", "mythos"];

function isClaudeName(name: string): boolean {
  return /^(claude|anthropic)/i.test(name);
}

/** Listed models by priority: the catalogue's first is its newest, strongest one. */
function listed(models: readonly CodexModel[]): CodexModel[] {
  return models.filter((m) => m.visibility === "list").sort((a, b) => a.priority - b.priority);
}

/** The built-in mapping of a family when ANTHROPIC_MODEL_MAP does not name it. */
export function defaultFamilyTarget(family: string, ctx: AnthropicModelContext): string {
  const models = listed(ctx.models);
  if (family === "opus" || family === "mythos") {
    const strongest = models[0]?.slug ?? ctx.defaultModel;
    return `${strongest}:high`;
  }
  if (family === "haiku") {
    const small = models.find((m) => /-mini$/i.test(m.slug));
    return small?.slug ?? ctx.defaultModel;
  }
  return ctx.defaultModel;
}

/** Which family a Claude name belongs to: a family named in the map, else a known one, else `sonnet`. */
function familyOf(name: string, modelMap: Readonly<Record<string, string>>): string {
  const lower = name.toLowerCase();
  for (const family of Object.keys(modelMap)) if (lower.includes(family)) return family;
  for (const family of KNOWN_FAMILIES) if (lower.includes(family)) return family;
  return "sonnet";
}

export function resolveAnthropicModel(requested: string | undefined, ctx: AnthropicModelContext): AnthropicModelChoice {
  const name = requested?.trim() ?? "";
  const exact = ctx.modelMap[name.toLowerCase()];
  if (exact) return resolveModel(exact, ctx.models, ctx.defaultModel);
  if (!name || !isClaudeName(name)) return resolveModel(name || undefined, ctx.models, ctx.defaultModel);
  const family = familyOf(name, ctx.modelMap);
  const target = ctx.modelMap[family] ?? defaultFamilyTarget(family, ctx);
  return { ...resolveModel(target, ctx.models, ctx.defaultModel), family };
}
