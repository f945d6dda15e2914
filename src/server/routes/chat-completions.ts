/**
 * POST /v1/chat/completions: translate to a Responses request, then
 * translate the upstream events back into chunks or one chat.completion.
 */
import { toResponsesRequest } from "../../translate/chat-request.js";
import {
  aggregateChatCompletion,
  ChatStreamTranslator,
  type ChatResponseOptions,
} from "../../translate/chat-response.js";
import { readJsonObject } from "../body.js";
import type { RequestLogInfo, RouteContext } from "../context.js";
import { eventStreamResponse, readAllEvents, openUpstream, reportStreamOutcome } from "../event-relay.js";
import { TranslatorRelay } from "../translator-relay.js";

/** Chat chunks from the upstream events. */
export class ChatRelay extends TranslatorRelay {}

export async function handleChatCompletions(
  request: Request,
  ctx: RouteContext,
  log: RequestLogInfo,
): Promise<Response> {
  const raw = await readJsonObject(request, ctx.config.maxBodyBytes, ctx.streams.readBody);
  const translated = toResponsesRequest(raw, {
    models: await ctx.catalogue.models(),
    defaultModel: ctx.config.defaultModel,
  });
  log.model = translated.model;
  log.stream = translated.stream;

  const { reader, opened } = await openUpstream(request, ctx, translated.body, translated.promptCacheKey, log);
  const options: ChatResponseOptions = {
    id: `chatcmpl-${ctx.newId()}`,
    created: Math.floor(ctx.now() / 1000),
    model: translated.model,
    includeUsage: translated.includeUsage,
    reasoningOutput: ctx.config.reasoningOutput,
    toolNames: translated.toolNames,
    legacyFunctions: translated.legacyFunctions,
  };

  if (!translated.stream) {
    return Response.json(aggregateChatCompletion(await readAllEvents(reader, opened.prelude), options));
  }
  return eventStreamResponse(
    reader,
    opened,
    new ChatRelay(new ChatStreamTranslator(options)),
    reportStreamOutcome(ctx.logger, "/v1/chat/completions", log.model),
  );
}
