/**
 * Compaction through `/responses` (docs/protocol.md §11): the retired
 * `/responses/compact` endpoint is emulated by a normal request whose input
 * ends with one `{"type":"compaction_trigger"}` item, and the streamed
 * `compaction` item is answered in the old endpoint's shape. Pure.
 */
import type { OutputItem, UpstreamResponseObject } from "../codex/events.js";
import { ProxyError } from "../core/errors.js";
import { isRecord, type Json } from "./json.js";

const TRIGGER = { type: "compaction_trigger" } as const;

/** The body with exactly one trigger, last: the backend refuses a trigger anywhere else. */
export function withCompactionTrigger(body: Json): Json {
  const input = Array.isArray(body.input) ? body.input : [];
  const history = input.filter((item) => !(isRecord(item) && item.type === TRIGGER.type));
  return { ...body, input: [...history, TRIGGER] };
}

/**
 * `{id, object:"response.compaction", created_at, output, usage}`. Codex
 * clients read `output` and replace their history with it: the user and
 * developer messages they sent, then the `compaction` item that stands for
 * everything else, as the old endpoint answered.
 */
export function compactionAnswer(input: readonly unknown[], response: UpstreamResponseObject): Json {
  const output = Array.isArray(response.output) ? response.output : [];
  const compaction = output.filter((item: OutputItem) => item.type === "compaction");
  if (compaction.length === 0) {
    throw new ProxyError(502, "The Codex backend answered the compaction request without a compaction item.", {
      type: "upstream_error",
      code: "compaction_missing",
    });
  }
  const retained = input.filter(
    (item) => isRecord(item) && item.type === "message" && (item.role === "user" || item.role === "developer"),
  );
  return {
    id: response.id,
    object: "response.compaction",
    created_at: response.created_at,
    output: [...retained, ...compaction],
    usage: response.usage ?? null,
  };
}
