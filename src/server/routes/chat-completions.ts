/**
 * POST /v1/chat/completions: translate to a Responses request, then
 * translate the upstream events back into chunks or one chat.completion.
 */
import { jsonStringLiteral } from "../../codex/json-fields.js";
import { parseEventData, type RawEvent } from "../../codex/sse.js";
import { toResponsesRequest } from "../../translate/chat-request.js";
import {
  aggregateChatCompletion,
  ChatStreamTranslator,
  type ChatResponseOptions,
} from "../../translate/chat-response.js";
import { readJsonObject } from "../body.js";
import type { RequestLogInfo, RouteContext } from "../context.js";
import type { ProxyError } from "../../core/errors.js";
import {
  eventStreamResponse,
  readAllEvents,
  openUpstream,
  reportStreamOutcome,
  type EventRelay,
} from "../event-relay.js";

export class ChatRelay implements EventRelay {
  constructor(private readonly translator: ChatStreamTranslator) {}

  onEvent(raw: RawEvent): string {
    // The delta events are nearly all of a stream: copy their JSON string literal instead of parsing.
    switch (raw.type) {
      case "response.output_text.delta": {
        const delta = jsonStringLiteral(raw.data, "delta");
        if (delta !== undefined) return this.translator.contentLiteral(delta);
        break;
      }
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta": {
        const delta = jsonStringLiteral(raw.data, "delta");
        if (delta !== undefined) return this.translator.reasoningLiteral(delta);
        break;
      }
      case "response.function_call_arguments.delta": {
        const delta = jsonStringLiteral(raw.data, "delta");
        const itemId = jsonStringLiteral(raw.data, "item_id");
        if (delta !== undefined && itemId !== undefined)
          return this.translator.argumentsLiteral(JSON.parse(itemId) as string, delta);
        break;
      }
    }
    const event = parseEventData(raw);
    return event ? this.translator.push(event) : "";
  }

  onEnd(): string {
    return this.translator.end();
  }

  onError(error: ProxyError): string {
    return this.translator.fail(error);
  }
}

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

  const { reader, opened } = await openUpstream(request, ctx, translated.body, translated.promptCacheKey);
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
