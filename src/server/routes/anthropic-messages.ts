/**
 * POST /v1/messages and /v1/messages/count_tokens: the Anthropic Messages
 * front. The request is translated to a Responses request; the upstream
 * events come back as Anthropic stream events or one message object.
 */
import { estimateInputTokens } from "../../translate/anthropic/count-tokens.js";
import {
  toResponsesRequestFromAnthropic,
  type AnthropicTranslationContext,
} from "../../translate/anthropic/request.js";
import {
  aggregateAnthropicMessage,
  AnthropicStreamTranslator,
  PING_FRAME,
  type AnthropicResponseOptions,
} from "../../translate/anthropic/response.js";
import { readJsonObject } from "../body.js";
import type { RequestLogInfo, RouteContext } from "../context.js";
import { eventStreamResponse, readAllEvents, openUpstream, reportStreamOutcome } from "../event-relay.js";
import { TranslatorRelay } from "../translator-relay.js";

/** Anthropic stream events from the upstream events, with a `ping` while the upstream is quiet. */
export class AnthropicRelay extends TranslatorRelay {
  readonly idleText = PING_FRAME;

  constructor(
    translator: AnthropicStreamTranslator,
    readonly idleIntervalMs?: number,
  ) {
    super(translator);
  }
}

/** Claude Code's session header, with the agent id for subagents: one upstream cache key per conversation. */
function sessionOf(headers: Headers): string | undefined {
  const session = headers.get("x-claude-code-session-id")?.trim();
  if (!session) return undefined;
  const agent = headers.get("x-claude-code-agent-id")?.trim();
  return agent ? `${session}:${agent}` : session;
}

async function translate(request: Request, ctx: RouteContext) {
  const raw = await readJsonObject(request, ctx.config.maxBodyBytes, ctx.streams.readBody);
  const translation: AnthropicTranslationContext = {
    models: await ctx.catalogue.models(),
    defaultModel: ctx.config.defaultModel,
    modelMap: ctx.config.anthropicModelMap,
    sessionId: sessionOf(request.headers),
  };
  return toResponsesRequestFromAnthropic(raw, translation);
}

export async function handleAnthropicMessages(
  request: Request,
  ctx: RouteContext,
  log: RequestLogInfo,
): Promise<Response> {
  const translated = await translate(request, ctx);
  log.model = translated.model;
  log.stream = translated.stream;

  // An overload the backend reports inside the stream is retried as for the OpenAI routes.
  const { reader, opened } = await openUpstream(request, ctx, translated.body, translated.promptCacheKey, log);
  const options: AnthropicResponseOptions = {
    id: `msg_${ctx.newId()}`,
    model: translated.requestedModel,
    thinking: translated.thinking,
    toolNames: translated.toolNames,
  };
  if (!translated.stream) {
    return Response.json(aggregateAnthropicMessage(await readAllEvents(reader, opened.prelude), options));
  }
  return eventStreamResponse(
    reader,
    opened,
    new AnthropicRelay(new AnthropicStreamTranslator(options)),
    reportStreamOutcome(ctx.logger, "/v1/messages", log.model),
  );
}

export async function handleAnthropicCountTokens(request: Request, ctx: RouteContext): Promise<Response> {
  const translated = await translate(request, ctx);
  return Response.json({ input_tokens: estimateInputTokens(translated.body) });
}
