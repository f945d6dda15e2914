/**
 * The relay of a front that translates the upstream events (chat, Anthropic).
 * The delta events are nearly all of a stream, so their JSON string literal is
 * copied into the translator's output without a parse; every other event goes
 * through the translator's full path. Each translator promises the same output
 * both ways.
 */
import type { UpstreamEvent } from "../codex/events.js";
import { jsonStringLiteral } from "../codex/json-fields.js";
import { parseEventData, type RawEvent } from "../codex/sse.js";
import type { ProxyError } from "../core/errors.js";
import type { EventRelay } from "./event-relay.js";

/** An incremental translator with literal fast paths for the delta events. */
export interface LiteralStreamTranslator {
  contentLiteral(literal: string): string;
  reasoningLiteral(itemId: string, literal: string): string;
  argumentsLiteral(itemId: string, literal: string): string;
  push(event: UpstreamEvent): string;
  end(): string;
  fail(error: ProxyError): string;
}

export class TranslatorRelay implements EventRelay {
  constructor(private readonly translator: LiteralStreamTranslator) {}

  onEvent(raw: RawEvent): string {
    switch (raw.type) {
      case "response.output_text.delta": {
        const delta = jsonStringLiteral(raw.data, "delta");
        if (delta !== undefined) return this.translator.contentLiteral(delta);
        break;
      }
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta": {
        const delta = jsonStringLiteral(raw.data, "delta");
        const itemId = jsonStringLiteral(raw.data, "item_id");
        if (delta !== undefined && itemId !== undefined)
          return this.translator.reasoningLiteral(JSON.parse(itemId) as string, delta);
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
