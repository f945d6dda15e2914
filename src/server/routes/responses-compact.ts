/**
 * POST /v1/responses/compact: what Codex clients with remote compaction call.
 * The backend retired that endpoint, so the request runs as a normal
 * streamed `/responses` request ending in a compaction trigger, and the
 * answer is one JSON object in the old endpoint's shape (docs/protocol.md §11).
 */
import { compactionAnswer, withCompactionTrigger } from "../../translate/compaction.js";
import { normaliseResponsesRequest } from "../../translate/responses-request.js";
import { readJsonObject } from "../body.js";
import type { RequestLogInfo, RouteContext } from "../context.js";
import { openUpstream } from "../event-relay.js";
import { aggregateResponse } from "./responses.js";

export async function handleResponsesCompact(
  request: Request,
  ctx: RouteContext,
  log: RequestLogInfo,
): Promise<Response> {
  const raw = await readJsonObject(request, ctx.config.maxBodyBytes, ctx.streams.readBody);
  const normalised = normaliseResponsesRequest(raw, {
    models: await ctx.catalogue.models(),
    defaultModel: ctx.config.defaultModel,
  });
  log.model = normalised.model;
  log.stream = false;
  const body = withCompactionTrigger(normalised.body);
  const { reader, opened } = await openUpstream(request, ctx, body, normalised.sessionId, log);
  const response = await aggregateResponse(reader, opened.prelude);
  return Response.json(compactionAnswer(normalised.body.input as unknown[], response));
}
