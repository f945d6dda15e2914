/**
 * GET /v1/models?client_version=…: the Codex-native catalogue shape
 * (`{"models":[…]}`, as the backend's own `/models` answers), which Codex
 * clients ask a custom provider for (docs/protocol.md §8, §11). Without
 * `client_version` the route keeps the OpenAI list (routes/models.ts).
 */
import type { RouteContext } from "../context.js";
import { currentAccount } from "./models.js";

export async function handleCodexModels(ctx: RouteContext): Promise<Response> {
  return Response.json({ models: await ctx.catalogue.codexEntries(await currentAccount(ctx)) });
}
