/**
 * GET /v1/models and /v1/models/:id in the OpenAI list shape, from the live
 * catalogue (cached) or the built-in fallback.
 */
import { resolveModel, type CodexModel } from "../../codex/models.js";
import type { RouteContext } from "../context.js";
import { ProxyError } from "../../core/errors.js";

// A fixed date: the backend gives no creation time, and a stable value keeps clients' caches stable.
const CREATED = 1_767_225_600; // 2026-01-01T00:00:00Z

function toOpenAIModel(model: CodexModel, id = model.slug) {
  return { id, object: "model" as const, created: CREATED, owned_by: "openai" };
}

/**
 * Names the credentials in use, so that the catalogue is fetched again after
 * a login, a logout or a switch of account instead of listing the previous
 * account's models (or the built-in list) until its cache expires.
 */
async function currentAccount(ctx: RouteContext): Promise<string | null> {
  try {
    const auth = await ctx.auth.getAuth();
    return `${auth.accountId ?? ""} ${auth.accessToken}`;
  } catch {
    return null;
  }
}

export async function handleListModels(ctx: RouteContext): Promise<Response> {
  const models = await ctx.catalogue.listed(await currentAccount(ctx));
  return Response.json({ object: "list", data: models.map((m) => toOpenAIModel(m)) });
}

/**
 * Any id a request accepts is a model here too: exact slugs, aliases and
 * effort suffixes (`gpt-5.5-high`), answered under the id asked for. A
 * suffix the model does not support is not found, as a request would fail.
 */
export async function handleGetModel(ctx: RouteContext, id: string): Promise<Response> {
  const models = await ctx.catalogue.models(await currentAccount(ctx));
  const resolved = resolveModel(id, models, id);
  const model = resolved.model;
  const effortOk =
    !resolved.effort ||
    model?.reasoningEfforts.includes(resolved.effort) ||
    resolved.effort === "minimal" ||
    resolved.effort === "none";
  if (model && effortOk) return Response.json(toOpenAIModel(model, id));
  throw new ProxyError(404, `The model '${id}' does not exist or is not available with a ChatGPT account.`, {
    code: "model_not_found",
    param: "model",
  });
}
