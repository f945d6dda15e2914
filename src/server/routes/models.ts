/**
 * GET /v1/models and /v1/models/:id in the OpenAI list shape, from the live
 * catalogue (cached) or the built-in fallback.
 */
import type { CodexModel } from "../../codex/models.js";
import type { RouteContext } from "../context.js";
import { ProxyError } from "../../core/errors.js";

// A fixed date: the backend gives no creation time, and a stable value keeps clients' caches stable.
const CREATED = 1_767_225_600; // 2026-01-01T00:00:00Z

function toOpenAIModel(model: CodexModel) {
  return { id: model.slug, object: "model" as const, created: CREATED, owned_by: "openai" };
}

export async function handleListModels(ctx: RouteContext): Promise<Response> {
  const models = await ctx.catalogue.listed();
  return Response.json({ object: "list", data: models.map(toOpenAIModel) });
}

export async function handleGetModel(ctx: RouteContext, id: string): Promise<Response> {
  const model = (await ctx.catalogue.models()).find((m) => m.slug === id);
  if (!model) {
    throw new ProxyError(404, `The model '${id}' does not exist or is not available with a ChatGPT account.`, {
      code: "model_not_found",
      param: "model",
    });
  }
  return Response.json(toOpenAIModel(model));
}
