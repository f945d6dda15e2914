/**
 * A fake of the ChatGPT Codex backend on 127.0.0.1, strict the way the real
 * one is (docs/protocol.md §4.4) and streaming the real event shapes (docs/protocol.md §5,
 * test/fixtures). Plain node:http so that it is fast enough to be the
 * benchmark's floor: every stream is built as strings up front and written in
 * ~64 KB chunks unless a scenario asks for pacing.
 *
 *   POST /backend-api/codex/responses   auth → account id → JSON → §4.4 checks → scenario
 *   GET  /backend-api/codex/models      auth → {"models":[…]} (filtered by client_version)
 *   POST /backend-api/codex/images/*    auth → account id → the route's fields → {data:[{b64_json}]}
 *   anything else                        404 JSON
 *
 * Auth is strict like the real one: a token is accepted only when a fake OAuth
 * server it trusts issued it (`issuers`, `acceptTokensFrom`) or a test registered
 * it (`acceptedTokens`, `acceptToken`; test/helpers/proxy.ts registers the token
 * of its FixedAuth). Request bodies are checked against the fields the real
 * backend accepts (codex-validation.ts, RESPONSES_FIELDS; the image routes' own sets in
 * codex-parity.ts): anything else is a 400.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { validateResponsesRequest, type CatalogueModel, type Rejection } from "./codex-validation.js";
import {
  answerImages,
  checkCompactionItems,
  checkWebSearchTools,
  FAKE_CITATION,
  isCompactionRequest,
  offersWebSearch,
} from "./codex-parity.js";
import {
  EventFramer,
  compactionFrames,
  completedFrame,
  errorFrame,
  estimateUsage,
  failedFrame,
  functionCallFrames,
  hexId,
  incompleteFrame,
  messageFrames,
  webSearchCallFrames,
  reasoningFrames,
  shellFor,
  splitText,
  startFrames,
  type ResponseShell,
  type Usage,
} from "./sse-builders.js";

export type { Usage } from "./sse-builders.js";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  // Parsed JSON of unknown shape (undefined when absent or not JSON): tests index into it freely,
  // as they would into a captured request.
  // biome-ignore lint/suspicious/noExplicitAny: JSON of unknown shape that tests index into freely
  body: any;
}

export type Scenario =
  | {
      kind: "text";
      text: string;
      reasoningSummary?: string[];
      model?: string;
      deltaCount?: number;
      delayMs?: number;
      usage?: Partial<Usage>;
    }
  | {
      kind: "tool_calls";
      calls: Array<{ name: string; arguments: string; callId?: string }>;
      preamble?: string;
      argumentDeltas?: number;
      /** Summary paragraphs of the reasoning item before the calls (the Anthropic front's thinking blocks). */
      reasoningSummary?: string[];
    }
  | { kind: "raw"; sse: string }
  | { kind: "http"; status: number; body: string; headers?: Record<string, string> }
  | { kind: "failed"; code: string; message: string }
  | { kind: "error_event"; code: string; message: string }
  | { kind: "cut"; afterDeltas: number; text?: string }
  | { kind: "incomplete"; reason: "max_output_tokens" | "content_filter"; text?: string }
  | { kind: "hang" }
  | { kind: "slow"; text: string; deltaCount: number; delayMs: number }
  /** The answer to an input ending in `compaction_trigger` (the default for such requests). */
  | { kind: "compaction" }
  /** A hosted web search, then an answer citing one page (the default when `web_search` is offered). */
  | { kind: "web_search"; text: string };

export interface AccountLimit {
  /** Epoch seconds when the limit resets. */
  resetsAt: number;
  /** Report it inside a 200 stream (`response.failed`) instead of as an HTTP 429. */
  inStream?: boolean;
  planType?: string;
  /** Serve this many more `/responses` requests of the account normally first (a limit met mid-task). */
  afterRequests?: number;
}

/** What the backend needs of a fake OAuth server to trust the access tokens it issues. */
export interface TokenIssuer {
  readonly accessTokens: readonly string[];
  onAccessToken(callback: (token: string) => void): void;
}

export interface FakeCodexBackendOptions {
  port?: number;
  /** Tokens accepted from the start (more with `acceptToken`). */
  acceptedTokens?: string[];
  /** Fake OAuth servers whose access tokens, issued before or after, are accepted. */
  issuers?: TokenIssuer[];
  /**
   * Any bearer token is accepted: only for the benchmark, which measures the relay and not auth.
   * Tests register their tokens instead, so that a proxy sending the wrong one fails.
   */
  acceptAnyToken?: boolean;
  models?: Array<Record<string, unknown>>;
  rateLimitHeaders?: Record<string, string>;
  /** How long image requests take before the answer (the real ones take 60–120 s). */
  imageDelayMs?: number;
}

export interface FakeCodexBackend {
  readonly url: string;
  readonly origin: string;
  readonly requests: RecordedRequest[];
  enqueue(...scenarios: Scenario[]): void;
  // The request body as the client sent it (parsed JSON of unknown shape).
  // biome-ignore lint/suspicious/noExplicitAny: JSON of unknown shape that tests index into freely
  setDefault(fn: (body: any) => Scenario): void;
  acceptToken(token: string): void;
  /** Accepts every access token `issuer` has issued and will issue. */
  acceptTokensFrom(issuer: TokenIssuer): void;
  rejectToken(token: string): void;
  /**
   * Every `/responses` and image request of the account (its `chatgpt-account-id`) meets
   * its plan's usage limit until `resetsAt` (epoch seconds) has passed or
   * `liftLimit` is called: an HTTP 429 `usage_limit_reached` (docs/protocol.md §7.2),
   * or with `inStream` a 200 stream that fails with it before any output (§7.3).
   * Its rate-limit headers then show the window used up. Accounts are independent.
   */
  limitAccount(accountId: string, limit: AccountLimit): void;
  liftLimit(accountId: string): void;
  /** A standing answer to every `/responses` request of the account (a 5xx, a plan without Codex); undefined clears it. */
  setAccountAnswer(accountId: string, scenario: Scenario | undefined): void;
  /** The account's own rate-limit headers (its usage windows); undefined goes back to the common ones. */
  setAccountRateLimits(accountId: string, headers: Record<string, string> | undefined): void;
  readonly closedEarly: number;
  /** TCP connections accepted so far: a client with a keep-alive pool opens few. */
  readonly connectionsOpened: number;
  waitForClosedEarly(n: number, timeoutMs?: number): Promise<void>;
  openStreams(): number;
  reset(): void;
  close(): Promise<void>;
}

const BASE_PATH = "/backend-api/codex";
const WRITE_CHUNK = 64 * 1024;

// ---------------------------------------------------------------------------
// catalogue (docs/protocol.md §4.5, §8.1)

const EFFORT_DESCRIPTIONS: Record<string, string> = {
  low: "Fast responses with lighter reasoning",
  medium: "Balances speed and reasoning depth for everyday tasks",
  high: "Greater reasoning depth for complex problems",
  xhigh: "Extra high reasoning depth for complex problems",
  max: "Maximum reasoning depth",
  ultra: "Longest reasoning for the hardest problems",
};
const levels = (...efforts: string[]) =>
  efforts.map((effort) => ({ effort, description: EFFORT_DESCRIPTIONS[effort] ?? effort }));
const STANDARD_EFFORTS = levels("low", "medium", "high", "xhigh");
const PRIORITY_TIER = [{ id: "priority", name: "Fast" }];

function catalogueEntry(
  slug: string,
  displayName: string,
  priority: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    slug,
    display_name: displayName,
    description: `${displayName} (fake catalogue)`,
    visibility: "list",
    priority,
    supported_reasoning_levels: STANDARD_EFFORTS,
    default_reasoning_level: "medium",
    support_verbosity: true,
    default_verbosity: "low",
    supports_reasoning_summaries: true,
    default_reasoning_summary: "none",
    supports_parallel_tool_calls: true,
    input_modalities: ["text", "image"],
    context_window: 272000,
    max_context_window: 272000,
    service_tiers: PRIORITY_TIER,
    supported_in_api: true,
    minimal_client_version: "0.98.0",
    ...extra,
  };
}

/** The default `GET /models` answer: the 2026-08 catalogue of docs/protocol.md §8.1, trimmed. */
export const DEFAULT_CATALOGUE: Array<Record<string, unknown>> = [
  catalogueEntry("gpt-5.6-sol", "GPT-5.6 Sol", 1, {
    supported_reasoning_levels: levels("low", "medium", "high", "xhigh", "max", "ultra"),
    default_reasoning_level: "low",
    minimal_client_version: "0.144.0",
  }),
  catalogueEntry("gpt-5.5", "GPT-5.5", 2, { minimal_client_version: "0.124.0" }),
  catalogueEntry("gpt-5.4", "GPT-5.4", 3),
  catalogueEntry("gpt-5.4-mini", "GPT-5.4 Mini", 4, { default_verbosity: "medium", service_tiers: [] }),
  catalogueEntry("gpt-5.3-codex-spark", "GPT-5.3 Codex Spark", 5, {
    input_modalities: ["text"],
    default_reasoning_level: "high",
    context_window: 128000,
    max_context_window: 128000,
    supported_in_api: false,
  }),
  catalogueEntry("codex-auto-review", "Codex Auto Review", 6, {
    visibility: "hide",
    supported_reasoning_levels: levels("low", "medium", "high", "xhigh", "max"),
  }),
];

interface ModelInfo extends CatalogueModel {
  defaultEffort: string | null;
  minimalClientVersion: string | undefined;
}

function toModelInfo(entry: Record<string, unknown>): ModelInfo {
  const supported = Array.isArray(entry.supported_reasoning_levels)
    ? (entry.supported_reasoning_levels as unknown[])
    : [];
  return {
    slug: String(entry.slug),
    efforts: supported.map((level) => String((level as { effort?: unknown } | null)?.effort)),
    textOnly: Array.isArray(entry.input_modalities) && !entry.input_modalities.includes("image"),
    defaultEffort: typeof entry.default_reasoning_level === "string" ? entry.default_reasoning_level : null,
    minimalClientVersion: typeof entry.minimal_client_version === "string" ? entry.minimal_client_version : undefined,
  };
}

function parseVersion(version: string | null | undefined): number[] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version ?? "");
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** True when `client` (x.y.z) is at least `minimal`; unparseable versions do not filter. */
function clientIsRecentEnough(client: number[] | undefined, minimal: string | undefined): boolean {
  const min = parseVersion(minimal);
  if (!client || !min) return true;
  for (let i = 0; i < 3; i++) if (client[i] !== min[i]) return client[i]! > min[i]!;
  return true;
}

// ---------------------------------------------------------------------------
// headers

function defaultRateLimitHeaders(): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return {
    "x-codex-primary-used-percent": "12.5",
    "x-codex-primary-window-minutes": "300",
    "x-codex-primary-reset-at": String(now + 3 * 3600),
    "x-codex-secondary-used-percent": "40",
    "x-codex-secondary-window-minutes": "10080",
    "x-codex-secondary-reset-at": String(now + 4 * 86400),
    "x-codex-credits-has-credits": "false",
    "x-codex-credits-unlimited": "false",
    "x-codex-active-limit": "codex",
  };
}

function flattenHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === "string") headers[name] = value;
    else if (Array.isArray(value)) headers[name] = value.join(", ");
  }
  return headers;
}

function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
}

// ---------------------------------------------------------------------------
// request checks beyond codex-validation.ts (docs/protocol.md §4.4, last rows)

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const openaiError = (message: string, param: string | null, code: string | null): Rejection => ({
  status: 400,
  body: { error: { message, type: "invalid_request_error", param, code } },
});

/** Replayed item ids must stay ≤ 64 characters. */
function checkItemIds(input: unknown[]): Rejection | undefined {
  for (const [i, item] of input.entries()) {
    if (isRecord(item) && typeof item.id === "string" && item.id.length > 64) {
      return openaiError(
        `Invalid 'input[${i}].id': string too long. Expected a string with maximum length 64, ` +
          `but got a string with length ${item.id.length} instead.`,
        `input[${i}].id`,
        "string_above_max_length",
      );
    }
  }
  return undefined;
}

/** A replayed reasoning item must be followed by the (output) item it produced. */
function checkReasoningFollowed(input: unknown[]): Rejection | undefined {
  for (const [i, item] of input.entries()) {
    if (!isRecord(item) || item.type !== "reasoning") continue;
    const next = input[i + 1];
    const isInputMessage =
      isRecord(next) && (next.role === "user" || next.role === "developer" || next.role === "system");
    if (!isRecord(next) || isInputMessage) {
      return openaiError(
        `Item '${String(item.id ?? `input[${i}]`)}' of type 'reasoning' was provided without its required following item.`,
        "input",
        null,
      );
    }
  }
  return undefined;
}

function validate(body: unknown, models: Map<string, ModelInfo>): Rejection | undefined {
  const rejection = validateResponsesRequest(body, models);
  if (rejection || !isRecord(body) || !Array.isArray(body.input)) return rejection;
  return (
    checkItemIds(body.input) ??
    checkReasoningFollowed(body.input) ??
    checkCompactionItems(body.input) ??
    checkWebSearchTools(body.tools)
  );
}

// ---------------------------------------------------------------------------
// scenarios → stream plans

/** Text of the last user message (`input_text` parts joined). */
function lastUserText(body: unknown): string {
  const input = isRecord(body) ? body.input : undefined;
  if (!Array.isArray(input)) return "";
  for (let i = input.length - 1; i >= 0; i--) {
    const item: unknown = input[i];
    if (!isRecord(item) || item.role !== "user") continue;
    if (typeof item.content === "string") return item.content;
    if (Array.isArray(item.content)) {
      return item.content
        .map((part: unknown) =>
          isRecord(part) && part.type === "input_text" && typeof part.text === "string" ? part.text : "",
        )
        .join("");
    }
  }
  return "";
}

const defaultScenario = (body: unknown): Scenario => ({ kind: "text", text: `Echo: ${lastUserText(body)}` });

/** What to write for one accepted request: `head`, then `paced` (spaced by `delayMs`), then `tail`. */
interface StreamPlan {
  head: string[];
  paced: string[];
  tail: string[];
  delayMs: number;
  /** Close the socket after `paced`, without a terminal event. */
  cut: boolean;
}

type StreamScenario = Exclude<Scenario, { kind: "http" } | { kind: "hang" } | { kind: "raw" }>;

interface PlanContext {
  body: Json;
  requestBytes: number;
  model: ModelInfo | undefined;
}

function buildPlan(scenario: StreamScenario, ctx: PlanContext): StreamPlan {
  const { body } = ctx;
  const f = new EventFramer();
  const encrypted = Array.isArray(body.include) && body.include.includes("reasoning.encrypted_content");
  const shellModel = scenario.kind === "text" ? scenario.model : undefined;
  const shell: ResponseShell = shellFor(body, { model: shellModel, defaultEffort: ctx.model?.defaultEffort });
  const plan: StreamPlan = { head: [], paced: [], tail: [], delayMs: 0, cut: false };

  switch (scenario.kind) {
    case "text":
    case "slow": {
      const summary = scenario.kind === "text" ? scenario.reasoningSummary : undefined;
      const pieces = splitText(scenario.text, scenario.deltaCount ?? 5);
      plan.head.push(...startFrames(f, shell), ...reasoningFrames(f, 0, summary, encrypted));
      const message = messageFrames(f, 1, pieces);
      plan.head.push(...message.head);
      plan.paced = message.deltas;
      const usage = estimateUsage(
        ctx.requestBytes,
        scenario.text.length,
        (summary ?? []).join("").length,
        scenario.kind === "text" ? scenario.usage : undefined,
      );
      plan.tail.push(...message.tail, completedFrame(f, shell, usage));
      plan.delayMs = scenario.delayMs ?? 0;
      return plan;
    }
    case "tool_calls": {
      plan.head.push(...startFrames(f, shell), ...reasoningFrames(f, 0, scenario.reasoningSummary, encrypted));
      let index = 1;
      let outputChars = 0;
      if (scenario.preamble) {
        const message = messageFrames(f, index++, splitText(scenario.preamble, 3), { phase: "commentary" });
        plan.head.push(...message.head, ...message.deltas, ...message.tail);
        outputChars += scenario.preamble.length;
      }
      for (const call of scenario.calls) {
        plan.head.push(...functionCallFrames(f, index++, call, scenario.argumentDeltas ?? 3));
        outputChars += call.name.length + call.arguments.length;
      }
      plan.head.push(completedFrame(f, shell, estimateUsage(ctx.requestBytes, outputChars, 0)));
      return plan;
    }
    case "failed":
      plan.head.push(...startFrames(f, shell), failedFrame(f, shell, scenario.code, scenario.message));
      return plan;
    case "error_event":
      // As in fixtures/error-event.sse: created, then the top-level error.
      plan.head.push(...startFrames(f, shell, false), errorFrame(f, scenario.code, scenario.message));
      return plan;
    case "cut": {
      const text = scenario.text ?? "This answer is cut short somewhere in the middle and never finishes.";
      const pieces = splitText(text, Math.max(scenario.afterDeltas + 2, 5));
      plan.head.push(...startFrames(f, shell), ...reasoningFrames(f, 0, undefined, encrypted));
      const message = messageFrames(f, 1, pieces, { deltaLimit: scenario.afterDeltas });
      plan.head.push(...message.head);
      plan.paced = message.deltas;
      plan.cut = true;
      return plan;
    }
    case "compaction":
      // One compaction item; completed.output stays empty, as for every store=false answer.
      plan.head.push(...startFrames(f, shell), ...compactionFrames(f, 0));
      plan.head.push(completedFrame(f, shell, estimateUsage(ctx.requestBytes, 400, 0)));
      return plan;
    case "web_search": {
      plan.head.push(...startFrames(f, shell), ...webSearchCallFrames(f, 0, lastUserText(body)));
      const cited = "Lighthouses";
      const annotation = {
        type: "url_citation",
        start_index: scenario.text.indexOf(cited),
        end_index: scenario.text.indexOf(cited) + cited.length,
        ...FAKE_CITATION,
      };
      const message = messageFrames(f, 1, splitText(scenario.text, 3), { annotations: [annotation] });
      plan.head.push(...message.head, ...message.deltas, ...message.tail);
      plan.head.push(completedFrame(f, shell, estimateUsage(ctx.requestBytes, scenario.text.length, 0)));
      return plan;
    }
    case "incomplete": {
      const text = scenario.text ?? "A partial answer";
      plan.head.push(...startFrames(f, shell), ...reasoningFrames(f, 0, undefined, encrypted));
      const message = messageFrames(f, 1, splitText(text, 3), { status: "incomplete" });
      plan.head.push(...message.head, ...message.deltas, ...message.tail);
      plan.head.push(incompleteFrame(f, shell, scenario.reason, estimateUsage(ctx.requestBytes, text.length, 0)));
      return plan;
    }
  }
}

/** Joins frames into chunks of about `WRITE_CHUNK` characters. */
function chunk(frames: string[]): string[] {
  const out: string[] = [];
  let current = "";
  for (const frame of frames) {
    current += frame;
    if (current.length >= WRITE_CHUNK) {
      out.push(current);
      current = "";
    }
  }
  if (current) out.push(current);
  return out;
}

// ---------------------------------------------------------------------------
// the server

/** One /responses answer that the fake is (or was) writing. */
interface ActiveStream {
  res: http.ServerResponse;
  timer: NodeJS.Timeout | undefined;
  /** Set when the fake itself closes the socket (cut) or shuts down: not a client disconnect. */
  closedByFake: boolean;
  /** reset() generation this stream belongs to: late closes of old streams are not counted. */
  generation: number;
  /** False for `hang`, which never writes: it is not an open stream, but its client giving up is counted. */
  writing: boolean;
}

export async function startFakeCodexBackend(options: FakeCodexBackendOptions = {}): Promise<FakeCodexBackend> {
  const requests: RecordedRequest[] = [];
  const queue: Scenario[] = [];
  let pickDefault: (body: unknown) => Scenario = defaultScenario;
  const catalogue = options.models ?? DEFAULT_CATALOGUE;
  const models = new Map(catalogue.map((entry) => [String(entry.slug), toModelInfo(entry)]));
  const accepted = new Set(options.acceptedTokens);
  const acceptTokensFrom = (issuer: TokenIssuer) => {
    for (const token of issuer.accessTokens) accepted.add(token);
    issuer.onAccessToken((token) => accepted.add(token));
  };
  for (const issuer of options.issuers ?? []) acceptTokensFrom(issuer);
  const rejected = new Set<string>();
  const limits = new Map<string, AccountLimit>();
  const accountAnswers = new Map<string, Scenario>();
  const accountRateLimits = new Map<string, Record<string, string>>();
  /** The account's limit while it has not reset. */
  const limitOf = (accountId: string | undefined): AccountLimit | undefined => {
    const limit = accountId === undefined ? undefined : limits.get(accountId);
    if (!limit || limit.resetsAt * 1000 <= Date.now() || (limit.afterRequests ?? 0) > 0) return undefined;
    return limit;
  };
  const rateLimitHeaders = (accountId?: string): Record<string, string> => {
    const own = accountId === undefined ? undefined : accountRateLimits.get(accountId);
    const headers = own ?? options.rateLimitHeaders ?? defaultRateLimitHeaders();
    const limit = limitOf(accountId);
    if (!limit) return headers;
    return {
      ...headers,
      "x-codex-primary-used-percent": "100",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-at": String(limit.resetsAt),
    };
  };
  /** The backend's usage-limit answers (docs/protocol.md §7.2, §7.3). */
  const limitBody = (limit: AccountLimit) => ({
    type: "usage_limit_reached",
    message: "The usage limit has been reached",
    plan_type: limit.planType ?? "plus",
    resets_at: limit.resetsAt,
    resets_in_seconds: Math.max(0, limit.resetsAt - Math.floor(Date.now() / 1000)),
  });
  const limitFailedStream = (limit: AccountLimit): string => {
    const id = hexId("resp_");
    const response = (status: string, extra: Record<string, unknown> = {}) => ({
      id,
      object: "response",
      status,
      model: "gpt-5.5",
      output: [],
      ...extra,
    });
    const frame = (data: Record<string, unknown>) => `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;
    return (
      frame({ type: "response.created", sequence_number: 0, response: response("in_progress") }) +
      frame({
        type: "response.failed",
        sequence_number: 1,
        response: response("failed", { error: { code: "usage_limit_reached", ...limitBody(limit) } }),
      })
    );
  };

  let closedEarly = 0;
  let connectionsOpened = 0;
  let generation = 0;
  let shuttingDown = false;
  const active = new Set<ActiveStream>();
  const closedWaiters = new Set<() => void>();
  const sockets = new Set<Socket>();

  const isAuthorised = (header: string | undefined): boolean => {
    const token = bearerToken(header);
    if (!token || rejected.has(token)) return false;
    return options.acceptAnyToken === true || accepted.has(token);
  };

  const sendJson = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    res.writeHead(status, { "content-type": "application/json", "x-request-id": hexId("req_"), ...headers });
    res.end(JSON.stringify(body));
  };

  /** Tracks `res` as an open stream; counts a client disconnect before the fake finished. */
  const track = (res: http.ServerResponse, writing = true): ActiveStream => {
    const stream: ActiveStream = { res, timer: undefined, closedByFake: false, generation, writing };
    active.add(stream);
    res.once("close", () => {
      active.delete(stream);
      clearTimeout(stream.timer);
      if (res.writableFinished || stream.closedByFake || shuttingDown || stream.generation !== generation) return;
      closedEarly++;
      for (const waiter of [...closedWaiters]) waiter();
    });
    return stream;
  };

  /** Writes `chunks` one after the other, waiting for 'drain' when needed; false once the client is gone. */
  const writeChunks = async (res: http.ServerResponse, chunks: string[]): Promise<boolean> => {
    for (const data of chunks) {
      if (res.destroyed) return false;
      if (!res.write(data)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done).off("close", done);
            resolve();
          };
          res.on("drain", done).on("close", done);
        });
      }
    }
    return !res.destroyed;
  };

  const delay = (stream: ActiveStream, ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const onClose = () => resolve();
      stream.res.once("close", onClose);
      stream.timer = setTimeout(() => {
        stream.res.off("close", onClose);
        resolve();
      }, ms);
    });

  const cutConnection = (stream: ActiveStream): Promise<void> =>
    new Promise<void>((resolve) => {
      stream.closedByFake = true;
      // Wait until what was written reached the socket, then drop it: no terminal event, no chunked terminator.
      stream.res.write("", () => {
        stream.res.socket?.destroy();
        resolve();
      });
    });

  const streamHeaders = (accountId?: string): Record<string, string> => ({
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-request-id": hexId("req_"),
    "x-models-etag": 'W/"fake-catalogue"',
    ...rateLimitHeaders(accountId),
  });

  async function writePlan(res: http.ServerResponse, plan: StreamPlan, accountId?: string): Promise<void> {
    const stream = track(res);
    res.writeHead(200, streamHeaders(accountId));
    if (plan.delayMs <= 0) {
      const all = plan.head.concat(plan.paced, plan.tail);
      if (!(await writeChunks(res, chunk(all)))) return;
    } else {
      if (!(await writeChunks(res, [plan.head.join("")]))) return;
      for (const frame of plan.paced) {
        await delay(stream, plan.delayMs);
        if (!(await writeChunks(res, [frame]))) return;
      }
      if (plan.tail.length && !(await writeChunks(res, chunk(plan.tail)))) return;
    }
    if (plan.cut) await cutConnection(stream);
    else res.end();
  }

  function answerScenario(res: http.ServerResponse, scenario: Scenario, ctx: PlanContext, accountId?: string): void {
    switch (scenario.kind) {
      case "http": {
        // Auth failures and Cloudflare/edge answers do not come from the Codex app: no x-codex-* headers there.
        const edge = scenario.status === 401 || scenario.status === 403 || scenario.status === 404;
        res.writeHead(scenario.status, {
          "content-type": "application/json",
          "x-request-id": hexId("req_"),
          ...(edge ? {} : rateLimitHeaders(accountId)),
          ...scenario.headers,
        });
        res.end(scenario.body);
        return;
      }
      case "hang":
        // Accept and never send headers (timeout tests); a client giving up counts as closedEarly.
        track(res, false);
        return;
      case "raw":
        track(res);
        res.writeHead(200, streamHeaders(accountId));
        res.end(scenario.sse);
        return;
      default: {
        const plan = buildPlan(scenario, ctx);
        if (accountId) rememberBlobs(plan, accountId);
        void writePlan(res, plan, accountId);
      }
    }
  }

  /** Which account each encrypted reasoning blob was issued to: like the real backend, only that one can read it. */
  const blobOwners = new Map<string, string>();
  function rememberBlobs(plan: StreamPlan, accountId: string): void {
    for (const frame of [...plan.head, ...plan.paced, ...plan.tail])
      for (const match of frame.matchAll(/"encrypted_content":"(gAAAA[^"]+)"/g)) blobOwners.set(match[1]!, accountId);
  }
  /** The first replayed blob that another account was given, as the backend's 400. */
  function foreignBlob(input: unknown, accountId: string): Rejection | undefined {
    if (!Array.isArray(input)) return undefined;
    for (const item of input) {
      const blob = isRecord(item) && item.type === "reasoning" ? item.encrypted_content : undefined;
      const owner = typeof blob === "string" ? blobOwners.get(blob) : undefined;
      if (owner && owner !== accountId)
        return {
          status: 400,
          body: {
            error: {
              message: `The encrypted content ${String(blob).slice(0, 4)}...${String(blob).slice(-4)} could not be verified. Reason: Encrypted content could not be decrypted or parsed.`,
              type: "invalid_request_error",
              param: null,
              code: "invalid_encrypted_content",
            },
          },
        };
    }
    return undefined;
  }

  function handleResponses(req: http.IncomingMessage, res: http.ServerResponse, raw: string, body: unknown): void {
    if (!isAuthorised(req.headers.authorization)) return sendJson(res, 401, { detail: "Unauthorized" });
    if (!req.headers["chatgpt-account-id"]) return sendJson(res, 400, { detail: "Missing chatgpt-account-id header" });
    if (body === undefined)
      return sendJson(res, 400, { detail: raw ? "Invalid JSON body" : "Request body is required" });
    const accountId = req.headers["chatgpt-account-id"] as string;
    const noPlan = { body: {}, requestBytes: 0, model: undefined };
    const pending = limits.get(accountId);
    const limit = limitOf(accountId);
    if (pending?.afterRequests) pending.afterRequests--;
    if (limit && !limit.inStream) return sendJson(res, 429, { error: limitBody(limit) }, rateLimitHeaders(accountId));
    const standing = accountAnswers.get(accountId);
    if (standing?.kind === "http") return answerScenario(res, standing, noPlan, accountId);
    // An edge answer (429, 5xx, Cloudflare) comes before the request is even looked at.
    if (queue[0]?.kind === "http") return answerScenario(res, queue.shift()!, noPlan, accountId);
    const rejection = validate(body, models) ?? foreignBlob((body as Json).input, accountId);
    if (rejection) return sendJson(res, rejection.status, rejection.body);
    if (limit) return answerScenario(res, { kind: "raw", sse: limitFailedStream(limit) }, noPlan, accountId);
    const json = body as Json; // validated: an object with the fields above
    const scenario =
      standing ??
      queue.shift() ??
      (isCompactionRequest(json)
        ? { kind: "compaction" as const }
        : offersWebSearch(json)
          ? { kind: "web_search" as const, text: `Lighthouses guide ships. (${lastUserText(json)})` }
          : pickDefault(json));
    answerScenario(
      res,
      scenario,
      {
        body: json,
        requestBytes: Buffer.byteLength(raw),
        model: models.get(String(json.model)),
      },
      accountId,
    );
  }

  function handleModels(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams): void {
    if (!isAuthorised(req.headers.authorization)) return sendJson(res, 401, { detail: "Unauthorized" });
    const client = parseVersion(query.get("client_version"));
    const listed = catalogue.filter((entry) => clientIsRecentEnough(client, toModelInfo(entry).minimalClientVersion));
    sendJson(res, 200, { models: listed }, { etag: 'W/"fake-catalogue"' });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (data: Buffer) => chunks.push(data));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      requests.push({
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: flattenHeaders(req.headers),
        body,
      });

      if (req.method === "POST" && url.pathname === `${BASE_PATH}/responses`)
        return handleResponses(req, res, raw, body);
      if (req.method === "GET" && url.pathname === `${BASE_PATH}/models`)
        return handleModels(req, res, url.searchParams);
      if (req.method === "POST" && url.pathname.startsWith(`${BASE_PATH}/images/`)) {
        if (!isAuthorised(req.headers.authorization)) return sendJson(res, 401, { detail: "Unauthorized" });
        if (!req.headers["chatgpt-account-id"])
          return sendJson(res, 400, { detail: "Missing chatgpt-account-id header" });
        const imageAccount = req.headers["chatgpt-account-id"] as string;
        const imageLimit = limitOf(imageAccount);
        if (imageLimit) return sendJson(res, 429, { error: limitBody(imageLimit) }, rateLimitHeaders(imageAccount));
        const answer = answerImages(url.pathname.slice(`${BASE_PATH}/images/`.length), body);
        const timer = setTimeout(() => sendJson(res, answer.status, answer.body), options.imageDelayMs ?? 0);
        res.once("close", () => clearTimeout(timer));
        return;
      }
      sendJson(res, 404, { detail: "Not Found" });
    });
  });
  server.on("connection", (socket) => {
    connectionsOpened++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  const fake: FakeCodexBackend = {
    url: `${origin}${BASE_PATH}`,
    origin,
    requests,
    enqueue: (...scenarios) => {
      queue.push(...scenarios);
    },
    setDefault: (fn) => {
      pickDefault = fn;
    },
    acceptToken: (token) => {
      rejected.delete(token);
      accepted.add(token);
    },
    acceptTokensFrom,
    rejectToken: (token) => {
      rejected.add(token);
      accepted.delete(token);
    },
    limitAccount: (accountId, limit) => {
      limits.set(accountId, { ...limit });
    },
    liftLimit: (accountId) => {
      limits.delete(accountId);
    },
    setAccountAnswer: (accountId, scenario) => {
      if (scenario) accountAnswers.set(accountId, scenario);
      else accountAnswers.delete(accountId);
    },
    setAccountRateLimits: (accountId, headers) => {
      if (headers) accountRateLimits.set(accountId, headers);
      else accountRateLimits.delete(accountId);
    },
    get closedEarly() {
      return closedEarly;
    },
    get connectionsOpened() {
      return connectionsOpened;
    },
    waitForClosedEarly: (n, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        if (closedEarly >= n) return resolve();
        const check = () => {
          if (closedEarly < n) return;
          closedWaiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          closedWaiters.delete(check);
          reject(new Error(`only ${closedEarly} of ${n} streams were closed early within ${timeoutMs} ms`));
        }, timeoutMs);
        closedWaiters.add(check);
      }),
    openStreams: () => {
      let open = 0;
      for (const stream of active) if (stream.writing) open++;
      return open;
    },
    reset: () => {
      requests.splice(0);
      blobOwners.clear();
      queue.splice(0);
      pickDefault = defaultScenario;
      closedEarly = 0;
      generation++;
      rejected.clear();
      limits.clear();
      accountAnswers.clear();
      accountRateLimits.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        shuttingDown = true;
        running.delete(fake.url);
        for (const stream of active) clearTimeout(stream.timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  running.set(fake.url, fake);
  return fake;
}

/** The fakes running in this process, by base URL: lets helpers that get only a URL register tokens. */
const running = new Map<string, FakeCodexBackend>();

/** The fake backend of this process at `url` (its `url` property), if there is one. */
export function fakeCodexBackendAt(url: string): FakeCodexBackend | undefined {
  return running.get(url.replace(/\/+$/, ""));
}
