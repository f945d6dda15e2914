/**
 * What the proxy last saw of the plan's usage windows, in two shapes:
 * GET /v1/usage (the proxy's own, windows labelled by their length) and the
 * backend's usage answer that Codex clients read at `/api/codex/usage` and
 * `/backend-api/wham/usage` (docs/protocol.md §11).
 */
import { readIdentity } from "../../auth/jwt.js";
import { windowLabel } from "../../codex/rate-limits.js";
import { usagePayload } from "../../codex/usage-payload.js";
import type { RouteContext } from "../context.js";

export function handleUsage(ctx: RouteContext): Response {
  const snapshot = ctx.rateLimits.snapshot;
  const rateLimits = snapshot
    ? {
        ...snapshot,
        windows: snapshot.windows.map((window) => ({ label: windowLabel(window.windowMinutes), ...window })),
      }
    : null;
  return Response.json({ object: "usage", rate_limits: rateLimits });
}

export async function handleCodexUsage(ctx: RouteContext): Promise<Response> {
  // The plan is read from the access token; without credentials the payload still answers.
  const auth = await ctx.auth.getAuth().catch(() => undefined);
  const plan = readIdentity(auth?.accessToken).plan;
  return Response.json(usagePayload(ctx.rateLimits.snapshot, plan, ctx.now()));
}
