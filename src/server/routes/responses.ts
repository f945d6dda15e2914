/**
 * POST /v1/responses: normalise, forward, and either relay the stream (only
 * `output_item.done` and terminal events are parsed; the rest pass as they
 * came) or aggregate it into one Response object.
 */
import { isTerminalSuccess, type UpstreamEvent, type UpstreamResponseObject } from "../../codex/events.js";
import { parseEventData, type EventReader, type RawEvent } from "../../codex/sse.js";
import { inStreamFailure, prematureClose } from "../../codex/upstream-errors.js";
import { normaliseResponsesRequest } from "../../translate/responses-request.js";
import { OutputCollector } from "../../translate/responses-aggregate.js";
import { readJsonObject } from "../body.js";
import type { RequestLogInfo, RouteContext } from "../context.js";
import type { ProxyError } from "../../core/errors.js";
import { eventStreamResponse, openUpstream, reportStreamOutcome, type EventRelay } from "../event-relay.js";

function sseFrame(type: string, data: string): string {
  return `event: ${type}\ndata: ${data}\n\n`;
}

/**
 * An `error` event with the Responses fields at the top level and the OpenAI
 * error object nested, so that raw clients read it and the SDKs raise it.
 */
function errorFrame(error: ProxyError): string {
  return sseFrame(
    "error",
    JSON.stringify({
      type: "error",
      code: error.code,
      message: error.message,
      param: error.param,
      error: error.toBody().error,
    }),
  );
}

/** Relays events verbatim except the terminal one, whose empty `output` is rebuilt. */
export class ResponsesRelay implements EventRelay {
  private readonly collector = new OutputCollector();
  private terminal = false;

  onEvent(raw: RawEvent): string {
    if (raw.type === "response.output_item.done") {
      const event = parseEventData(raw);
      if (event) this.collector.addDone(event);
      return sseFrame(raw.type, raw.data);
    }
    if (isTerminalSuccess(raw.type)) {
      this.terminal = true;
      const event = parseEventData(raw);
      if (!event?.response || this.collector.size === 0) return sseFrame(raw.type, raw.data);
      return sseFrame(
        raw.type,
        JSON.stringify({ ...event, response: this.collector.completeResponse(event.response) }),
      );
    }
    if (raw.type === "error") {
      this.terminal = true;
      return errorFrame(inStreamFailure(parseEventData(raw) ?? { type: "error" }));
    }
    if (raw.type === "response.failed") this.terminal = true;
    // Everything else passes unparsed.
    return sseFrame(raw.type, raw.data);
  }

  onEnd(): string {
    return this.terminal ? "" : errorFrame(prematureClose());
  }

  onError(error: ProxyError): string {
    return errorFrame(error);
  }
}

/** Reads a whole stream into one Response object (`output` rebuilt from `output_item.done`). */
export async function aggregateResponse(
  reader: EventReader,
  prelude: readonly RawEvent[] = [],
): Promise<UpstreamResponseObject> {
  const collector = new OutputCollector();
  const replay = [...prelude];
  for (;;) {
    const raw = replay.shift() ?? (await reader.next());
    if (!raw) throw prematureClose();
    if (raw.type === "response.output_item.done") {
      const event = parseEventData(raw);
      if (event) collector.addDone(event);
    } else if (isTerminalSuccess(raw.type)) {
      const event = parseEventData(raw);
      void reader.drain();
      return { ...collector.completeResponse(event?.response), object: "response" };
    } else if (raw.type === "response.failed" || raw.type === "error") {
      await reader.cancel();
      throw inStreamFailure(parseEventData(raw) ?? ({ type: raw.type } as UpstreamEvent));
    }
  }
}

export async function handleResponses(request: Request, ctx: RouteContext, log: RequestLogInfo): Promise<Response> {
  const raw = await readJsonObject(request, ctx.config.maxBodyBytes, ctx.streams.readBody);
  const normalised = normaliseResponsesRequest(raw, {
    models: await ctx.catalogue.models(),
    defaultModel: ctx.config.defaultModel,
  });
  log.model = normalised.model;
  log.stream = normalised.stream;

  const { reader, opened } = await openUpstream(request, ctx, normalised.body, normalised.sessionId);

  if (!normalised.stream) {
    return Response.json(await aggregateResponse(reader, opened.prelude));
  }
  return eventStreamResponse(
    reader,
    opened,
    new ResponsesRelay(),
    reportStreamOutcome(ctx.logger, "/v1/responses", log.model),
  );
}
