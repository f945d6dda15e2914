/**
 * Typed views of the upstream SSE events we act on (docs/protocol.md §5.2). Events
 * are parsed JSON; unknown types and fields are ignored by consumers.
 */

export interface UpstreamUsage {
  input_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
  output_tokens?: number;
  output_tokens_details?: { reasoning_tokens?: number } | null;
  total_tokens?: number;
}

export interface UpstreamResponseObject {
  id?: string;
  object?: string;
  created_at?: number;
  status?: string;
  model?: string;
  output?: OutputItem[];
  usage?: UpstreamUsage | null;
  error?: { code?: string; message?: string; type?: string; [k: string]: unknown } | null;
  incomplete_details?: { reason?: string } | null;
  [k: string]: unknown;
}

export interface OutputItem {
  id?: string;
  type: string;
  status?: string;
  role?: string;
  content?: Array<{ type: string; text?: string; [k: string]: unknown }>;
  summary?: Array<{ type: string; text?: string }>;
  call_id?: string;
  name?: string;
  arguments?: string;
  input?: string;
  [k: string]: unknown;
}

/** Any upstream event: `type` plus whatever fields that type carries. */
export interface UpstreamEvent {
  type: string;
  sequence_number?: number;
  response?: UpstreamResponseObject;
  output_index?: number;
  item_id?: string;
  item?: OutputItem;
  delta?: string;
  text?: string;
  arguments?: string;
  summary_index?: number;
  content_index?: number;
  code?: string;
  message?: string;
  param?: string | null;
  error?: { code?: string; message?: string; type?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/**
 * A switch, not a Set: event types are fresh strings from the parser, and a
 * Set hashes each one; comparing lengths first is cheaper on every delta.
 */
export function isTerminalEvent(type: string): boolean {
  switch (type) {
    case "response.completed":
    case "response.incomplete":
    case "response.failed":
    case "error":
      return true;
    default:
      return false;
  }
}

/** `response.completed` or `response.incomplete`: the answer ended without a failure. */
export function isTerminalSuccess(type: string): boolean {
  return type === "response.completed" || type === "response.incomplete";
}
