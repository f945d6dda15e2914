/**
 * GET /v1/models and /v1/models/:id from the live catalogue (cached) or the
 * built-in fallback: in the OpenAI list shape, or in the Anthropic shape when
 * the request comes from an Anthropic client (it sends `anthropic-version`;
 * Claude Code also names itself in its user agent).
 */
import { clampEffort, resolveModel, type CodexModel } from "../../codex/models.js";
import type { RouteContext } from "../context.js";
import { ProxyError } from "../../core/errors.js";
import { defaultFamilyTarget } from "../../translate/anthropic/models.js";

// A fixed date: the backend gives no creation time, and a stable value keeps clients' caches stable.
const CREATED = 1_767_225_600; // 2026-01-01T00:00:00Z
const CREATED_AT = new Date(CREATED * 1000).toISOString();

function toOpenAIModel(model: CodexModel, id = model.slug) {
  return { id, object: "model" as const, created: CREATED, owned_by: "openai" };
}

/**
 * Names the credentials in use, so that the catalogue is fetched again after
 * a login, a logout or a switch of account instead of listing the previous
 * account's models (or the built-in list) until its cache expires.
 */
export async function currentAccount(ctx: RouteContext): Promise<string | null> {
  try {
    // The default account's: the catalogue is cached for it.
    const auth = await ctx.pool.defaultMember.auth.getAuth();
    return `${auth.accountId ?? ""} ${auth.accessToken}`;
  } catch {
    return null;
  }
}

interface AnthropicModel {
  type: "model";
  id: string;
  display_name: string;
  created_at: string;
}

function toAnthropicModel(id: string, displayName: string): AnthropicModel {
  return { type: "model", id, display_name: displayName, created_at: CREATED_AT };
}

function isAnthropicClient(headers: Headers): boolean {
  return headers.has("anthropic-version") || /^claude-(cli|code)\//i.test(headers.get("user-agent") ?? "");
}

/**
 * The Claude family names first (Claude Code's model discovery keeps only
 * `claude*` ids), each showing what it maps to, then the catalogue's own ids.
 */
async function anthropicModels(ctx: RouteContext): Promise<AnthropicModel[]> {
  const account = await currentAccount(ctx);
  const models = await ctx.catalogue.models(account);
  const mapCtx = { models, defaultModel: ctx.config.defaultModel, modelMap: ctx.config.anthropicModelMap };
  const families = [...new Set(["opus", "sonnet", "haiku", ...Object.keys(ctx.config.anthropicModelMap)])];
  const aliases = families.map((family) => {
    const target = ctx.config.anthropicModelMap[family] ?? defaultFamilyTarget(family, mapCtx);
    return toAnthropicModel(`claude-${family}`, `Claude ${family} → ${target}`);
  });
  const listed = (await ctx.catalogue.listed(account)).map((m) => toAnthropicModel(m.slug, m.displayName ?? m.slug));
  return [...aliases, ...listed];
}

function anthropicPage(models: AnthropicModel[], url: URL) {
  const limit = Math.min(Math.max(Number(url.searchParams.get("limit")) || 20, 1), 1000);
  const afterId = url.searchParams.get("after_id");
  const beforeId = url.searchParams.get("before_id");
  let start = 0;
  let end = models.length;
  if (afterId) start = models.findIndex((m) => m.id === afterId) + 1;
  if (beforeId)
    end = Math.max(
      0,
      models.findIndex((m) => m.id === beforeId),
    );
  if (beforeId && !afterId) start = Math.max(0, end - limit);
  const data = models.slice(start, Math.min(end, start + limit));
  return {
    data,
    has_more: start + data.length < end,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  };
}

export async function handleListModels(ctx: RouteContext, request: Request): Promise<Response> {
  if (isAnthropicClient(request.headers))
    return Response.json(anthropicPage(await anthropicModels(ctx), new URL(request.url)));
  const models = await ctx.catalogue.listed(await currentAccount(ctx));
  return Response.json({ object: "list", data: models.map((m) => toOpenAIModel(m)) });
}

/**
 * Any id a request accepts is a model here too: exact slugs, aliases and
 * effort suffixes (`gpt-5.5-high`), answered under the id asked for. A
 * suffix the model does not support is not found, as a request would fail.
 */
export async function handleGetModel(ctx: RouteContext, request: Request, id: string): Promise<Response> {
  if (isAnthropicClient(request.headers)) {
    const model = (await anthropicModels(ctx)).find((m) => m.id === id);
    if (model) return Response.json(model);
  } else {
    const models = await ctx.catalogue.models(await currentAccount(ctx));
    const resolved = resolveModel(id, models, id);
    const model = resolved.model;
    const effortOk = !resolved.effort || (model !== undefined && clampEffort(resolved.effort, model) !== undefined);
    if (model && effortOk) return Response.json(toOpenAIModel(model, id));
  }
  throw new ProxyError(404, `The model '${id}' does not exist or is not available with a ChatGPT account.`, {
    code: "model_not_found",
    param: "model",
  });
}
