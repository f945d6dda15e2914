/**
 * A fake of the ChatGPT Codex backend on 127.0.0.1, strict the way the real
 * one is (PROTOCOL §4.4) and streaming the real event shapes. Plain node:http
 * so that it is fast enough to be the benchmark's floor.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { validateResponsesRequest, type CatalogueModel } from "./codex-validation.js";
import {
  completedEvent,
  frame,
  functionCallEvents,
  hexId,
  messageEvents,
  reasoningEvents,
  responseObject,
  splitText,
  startEvents,
  usageObject,
  type ResponseShell,
  type SseEvent,
  type Usage,
} from "./sse-builders.js";

export type { Usage } from "./sse-builders.js";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  // Parsed JSON of unknown shape: tests index into it freely, as they would into a captured request.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export type Scenario =
  | { kind: "text"; text: string; reasoningSummary?: string[]; model?: string; deltaCount?: number; delayMs?: number; usage?: Partial<Usage> }
  | { kind: "tool_calls"; calls: Array<{ name: string; arguments: string; callId?: string }>; preamble?: string; argumentDeltas?: number }
  | { kind: "raw"; sse: string }
  | { kind: "http"; status: number; body: string; headers?: Record<string, string> }
  | { kind: "failed"; code: string; message: string }
  | { kind: "error_event"; code: string; message: string }
  | { kind: "cut"; afterDeltas: number; text?: string }
  | { kind: "incomplete"; reason: "max_output_tokens" | "content_filter"; text?: string }
  | { kind: "hang" }
  | { kind: "slow"; text: string; deltaCount: number; delayMs: number };

export interface FakeCodexBackendOptions {
  port?: number;
  acceptedTokens?: string[];
  models?: Array<Record<string, unknown>>;
  rateLimitHeaders?: Record<string, string>;
}

export interface FakeCodexBackend {
  readonly url: string;
  readonly origin: string;
  readonly requests: RecordedRequest[];
  enqueue(...scenarios: Scenario[]): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the request body as the client sent it
  setDefault(fn: (body: any) => Scenario): void;
  acceptToken(token: string): void;
  rejectToken(token: string): void;
  readonly closedEarly: number;
  waitForClosedEarly(n: number, timeoutMs?: number): Promise<void>;
  openStreams(): number;
  reset(): void;
  close(): Promise<void>;
}

const EFFORTS = ["low", "medium", "high", "xhigh"].map((effort) => ({ effort, description: effort }));

export const DEFAULT_CATALOGUE: Array<Record<string, unknown>> = [
  catalogueEntry("gpt-5.6-sol", 1, { supported_reasoning_levels: [...EFFORTS, { effort: "max" }, { effort: "ultra" }], default_reasoning_level: "low", minimal_client_version: "0.144.0" }),
  catalogueEntry("gpt-5.5", 2, { minimal_client_version: "0.124.0" }),
  catalogueEntry("gpt-5.4", 3),
  catalogueEntry("gpt-5.4-mini", 4),
  catalogueEntry("gpt-5.3-codex-spark", 5, { input_modalities: ["text"], default_reasoning_level: "high" }),
  catalogueEntry("codex-auto-review", 6, { visibility: "hide" }),
];

function catalogueEntry(slug: string, priority: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    slug,
    display_name: slug,
    description: `${slug} (fake)`,
    visibility: "list",
    priority,
    supported_reasoning_levels: EFFORTS,
    default_reasoning_level: "medium",
    support_verbosity: true,
    default_verbosity: "low",
    supports_reasoning_summaries: true,
    default_reasoning_summary: "none",
    supports_parallel_tool_calls: true,
    input_modalities: ["text", "image"],
    context_window: 272000,
    minimal_client_version: "0.98.0",
    ...extra,
  };
}

function toCatalogueModel(entry: Record<string, unknown>): CatalogueModel {
  const levels = Array.isArray(entry.supported_reasoning_levels) ? entry.supported_reasoning_levels : [];
  return {
    slug: String(entry.slug),
    efforts: levels.map((level: { effort?: string }) => String(level.effort)),
    textOnly: Array.isArray(entry.input_modalities) && !entry.input_modalities.includes("image"),
  };
}

function defaultRateLimitHeaders(): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return {
    "x-codex-primary-used-percent": "12.5",
    "x-codex-primary-window-minutes": "300",
    "x-codex-primary-reset-at": String(now + 3600),
    "x-codex-secondary-used-percent": "40",
    "x-codex-secondary-window-minutes": "10080",
    "x-codex-secondary-reset-at": String(now + 3 * 86400),
    "x-codex-active-limit": "codex",
  };
}

function lastUserText(body: unknown): string {
  const input = (body as { input?: unknown })?.input;
  if (!Array.isArray(input)) return "";
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i] as { role?: string; content?: unknown };
    if (item?.role !== "user") continue;
    if (typeof item.content === "string") return item.content;
    if (Array.isArray(item.content)) return item.content.map((p: { text?: string }) => p?.text ?? "").join("");
  }
  return "";
}

const defaultScenario = (body: unknown): Scenario => ({ kind: "text", text: `Echo: ${lastUserText(body)}` });

const WRITE_BATCH = 64 * 1024;

export async function startFakeCodexBackend(options: FakeCodexBackendOptions = {}): Promise<FakeCodexBackend> {
  const requests: RecordedRequest[] = [];
  const queue: Scenario[] = [];
  let pickDefault: (body: unknown) => Scenario = defaultScenario;
  const catalogue = options.models ?? DEFAULT_CATALOGUE;
  const models = new Map(catalogue.map((entry) => [String(entry.slug), toCatalogueModel(entry)]));
  const accepted = options.acceptedTokens ? new Set(options.acceptedTokens) : undefined;
  const rejected = new Set<string>();
  let closedEarly = 0;
  let open = 0;
  const closedWaiters: Array<() => void> = [];
  const sockets = new Set<import("node:net").Socket>();

  const isAuthorised = (header: string | undefined): boolean => {
    const token = /^Bearer\s+(.+)$/.exec(header ?? "")?.[1];
    if (!token || rejected.has(token)) return false;
    return accepted ? accepted.has(token) : true;
  };

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

  /** Writes SSE text, respecting backpressure; stops if the client went away. */
  const writeAll = async (res: http.ServerResponse, chunks: string[]): Promise<boolean> => {
    for (const chunk of chunks) {
      if (res.destroyed) return false;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done).off("close", done);
            resolve();
          };
          res.once("drain", done).once("close", done);
        });
      }
    }
    return !res.destroyed;
  };

  const batch = (frames: string[]): string[] => {
    const out: string[] = [];
    let current = "";
    for (const f of frames) {
      current += f;
      if (current.length >= WRITE_BATCH) {
        out.push(current);
        current = "";
      }
    }
    if (current) out.push(current);
    return out;
  };

  const sleep = (ms: number, res: http.ServerResponse) =>
    new Promise<void>((resolve) => {
      const onClose = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        res.off("close", onClose);
        resolve();
      }, ms);
      res.once("close", onClose);
    });

  async function stream(res: http.ServerResponse, body: Record<string, unknown>, scenario: Scenario): Promise<void> {
    const shell: ResponseShell = { id: hexId("resp_"), created_at: Math.floor(Date.now() / 1000), model: String(body.model) };
    const encrypted = Array.isArray(body.include) && body.include.includes("reasoning.encrypted_content");
    let seq = 0;
    const f = (event: SseEvent) => frame(event, seq++);
    res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": hexId("req_"), ...(options.rateLimitHeaders ?? defaultRateLimitHeaders()) });
    res.flushHeaders();
    const events: SseEvent[] = [...startEvents(shell)];

    switch (scenario.kind) {
      case "text":
      case "slow": {
        events.push(...reasoningEvents(0, scenario.kind === "text" ? scenario.reasoningSummary : undefined, encrypted));
        const deltaCount = scenario.deltaCount ?? Math.min(5, scenario.text.length);
        const message = messageEvents(1, splitText(scenario.text, deltaCount));
        const delayMs = scenario.kind === "slow" ? scenario.delayMs : (scenario.delayMs ?? 0);
        const done = [...message.tail, completedEvent(shell, scenario.kind === "text" ? scenario.usage : undefined)];
        if (delayMs <= 0) {
          await writeAll(res, batch([...events, ...message.head, ...message.deltas, ...done].map(f)));
        } else {
          if (!(await writeAll(res, [[...events, ...message.head].map(f).join("")]))) return;
          for (const delta of message.deltas) {
            await sleep(delayMs, res);
            if (!(await writeAll(res, [f(delta)]))) return;
          }
          await writeAll(res, [done.map(f).join("")]);
        }
        break;
      }
      case "tool_calls": {
        events.push(...reasoningEvents(0, undefined, encrypted));
        let index = 1;
        if (scenario.preamble) {
          const m = messageEvents(index++, splitText(scenario.preamble, 3), "commentary");
          events.push(...m.head, ...m.deltas, ...m.tail);
        }
        for (const call of scenario.calls) events.push(...functionCallEvents(index++, call, scenario.argumentDeltas ?? 3));
        events.push(completedEvent(shell));
        await writeAll(res, batch(events.map(f)));
        break;
      }
      case "failed":
        events.push({ type: "response.failed", response: responseObject(shell, "failed", { error: { code: scenario.code, message: scenario.message } }) });
        await writeAll(res, [events.map(f).join("")]);
        break;
      case "error_event":
        events.push({ type: "error", code: scenario.code, message: scenario.message, param: null });
        await writeAll(res, [events.map(f).join("")]);
        break;
      case "cut": {
        const text = scenario.text ?? "This answer is cut short somewhere in the middle.";
        const message = messageEvents(0, splitText(text, Math.max(scenario.afterDeltas + 2, 5)));
        await writeAll(res, [[...events, ...message.head, ...message.deltas.slice(0, scenario.afterDeltas)].map(f).join("")]);
        // Close the connection without a terminal event, as the backend does after long reasoning.
        res.socket?.destroy();
        return;
      }
      case "incomplete": {
        const message = messageEvents(0, splitText(scenario.text ?? "Partial", 2));
        events.push(...message.head, ...message.deltas, ...message.tail);
        events.push({
          type: "response.incomplete",
          response: responseObject(shell, "incomplete", { incomplete_details: { reason: scenario.reason }, usage: usageObject() }),
        });
        await writeAll(res, [events.map(f).join("")]);
        break;
      }
      default:
        break;
    }
    if (!res.destroyed) res.end();
  }

  async function handleResponses(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): Promise<void> {
    if (!isAuthorised(req.headers.authorization)) return json(res, 401, { detail: "Unauthorized" });
    if (!req.headers["chatgpt-account-id"]) return json(res, 400, { detail: "Missing chatgpt-account-id header" });
    const scenario = queue.shift() ?? pickDefault(body);
    if (scenario.kind === "http") {
      res.writeHead(scenario.status, { "content-type": "application/json", ...scenario.headers });
      res.end(scenario.body);
      return;
    }
    const rejection = validateResponsesRequest(body, models);
    if (rejection) return json(res, rejection.status, rejection.body);
    if (scenario.kind === "hang") return; // never answer: for timeout tests
    if (scenario.kind === "raw") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(scenario.sse);
      return;
    }
    open++;
    res.once("close", () => {
      open--;
      if (!res.writableFinished) {
        closedEarly++;
        for (const waiter of closedWaiters.splice(0)) waiter();
      }
    });
    await stream(res, body as Record<string, unknown>, scenario);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
      requests.push({ method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers, body });

      if (req.method === "POST" && url.pathname === "/backend-api/codex/responses") {
        if (raw && body === undefined) return json(res, 400, { detail: "Invalid JSON body" });
        void handleResponses(req, res, body);
        return;
      }
      if (req.method === "GET" && url.pathname === "/backend-api/codex/models") {
        if (!isAuthorised(req.headers.authorization)) return json(res, 401, { detail: "Unauthorized" });
        return json(res, 200, { models: catalogue });
      }
      json(res, 404, { detail: "Not Found" });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/backend-api/codex`,
    origin,
    requests,
    enqueue: (...scenarios) => queue.push(...scenarios),
    setDefault: (fn) => {
      pickDefault = fn;
    },
    acceptToken: (token) => {
      rejected.delete(token);
      accepted?.add(token);
    },
    rejectToken: (token) => {
      rejected.add(token);
      accepted?.delete(token);
    },
    get closedEarly() {
      return closedEarly;
    },
    waitForClosedEarly: (n, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${closedEarly} of ${n} streams were closed early`)), timeoutMs);
        const check = () => {
          if (closedEarly >= n) {
            clearTimeout(timer);
            resolve();
          } else closedWaiters.push(check);
        };
        check();
      }),
    openStreams: () => open,
    reset: () => {
      requests.splice(0);
      queue.splice(0);
      pickDefault = defaultScenario;
      closedEarly = 0;
      rejected.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
