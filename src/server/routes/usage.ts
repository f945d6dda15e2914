/**
 * What the proxy last saw of the plans' usage windows, in two shapes:
 * GET /v1/usage (the proxy's own, windows labelled by their length: the
 * default account's at the top level, as before pools, and every account's
 * in `accounts`) and the backend's usage answer that Codex clients read at
 * `/api/codex/usage` and `/backend-api/wham/usage` (docs/protocol.md §11),
 * for the account the request would use.
 */
import { readIdentity } from "../../auth/jwt.js";
import { type RateLimitSnapshot, windowLabel } from "../../codex/rate-limits.js";
import { usagePayload } from "../../codex/usage-payload.js";
import { poolSelection, type RouteContext } from "../context.js";

function labelled(snapshot: RateLimitSnapshot | undefined) {
  return snapshot
    ? {
        ...snapshot,
        windows: snapshot.windows.map((window) => ({ label: windowLabel(window.windowMinutes), ...window })),
      }
    : null;
}

export async function handleUsage(ctx: RouteContext): Promise<Response> {
  return Response.json({
    object: "usage",
    rate_limits: labelled(ctx.pool.defaultMember.rateLimits.snapshot),
    accounts: await ctx.pool.summaries(),
  });
}

export async function handleCodexUsage(request: Request, ctx: RouteContext): Promise<Response> {
  const member = await ctx.pool.preview(poolSelection(request, undefined));
  // The plan is read from the access token; without credentials the payload still answers.
  const auth = await member.auth.getAuth().catch(() => undefined);
  const plan = readIdentity(auth?.accessToken).plan;
  return Response.json(usagePayload(member.rateLimits.snapshot, plan, ctx.now()));
}
