/**
 * GET /v1/pool: the pool at a glance for its owner (the status page polls
 * it): the strategy, every account (never a token) and the last requests
 * (time, method, path, model, account, status, duration; no content).
 */
import type { RouteContext } from "../context.js";

export async function handlePool(ctx: RouteContext): Promise<Response> {
  return Response.json({
    object: "pool",
    strategy: ctx.pool.strategy.name,
    accounts: await ctx.pool.summaries(),
    recent: ctx.pool.recent.list(),
  });
}
