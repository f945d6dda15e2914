/**
 * The few Workers runtime shapes we use, declared structurally: pulling
 * @cloudflare/workers-types in as globals would clash with the DOM types the
 * rest of the code (and Node) uses, and small shapes let the Node tests pass
 * in-memory fakes. The checks at the bottom prove, at compile time, that the
 * runtime's real bindings fit these shapes.
 */
import type {
  DurableObjectNamespace as CfDurableObjectNamespace,
  DurableObjectState as CfDurableObjectState,
  ExecutionContext as CfExecutionContext,
  KVNamespace as CfKVNamespace,
} from "@cloudflare/workers-types";

export interface KvNamespace {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** What we send a Durable Object: a string body only, which both DOM and workers-types accept. */
export interface StubRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What we read back: the status and the JSON body. */
interface StubResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}

export interface DurableObjectStub {
  fetch(input: string, init?: StubRequestInit): Promise<StubResponse>;
}

export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStub;
}

/** A Durable Object's transactional, strongly consistent storage (its key-value API). */
export interface DurableStorageLike {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
}

export interface DurableObjectStateLike {
  storage: DurableStorageLike;
}

/** What the runtime hands `fetch` besides the request and env (only `waitUntil` is used). */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

/** The Worker's env: vars and secrets are strings, bindings are objects. */
export interface WorkerEnv {
  CODEX_PROXY_KV?: KvNamespace;
  GEMINI_CLI_KV?: KvNamespace;
  REFRESH_COORDINATOR?: DurableObjectNamespaceLike;
  [name: string]: unknown;
}

type Fits<Actual, Shape> = Actual extends Shape ? true : never;
// Compile-time only: fails the typecheck if workers-types drifts away from the shapes above.
type BindingShapesFit = [
  Fits<CfKVNamespace, KvNamespace>,
  Fits<CfDurableObjectState, DurableObjectStateLike>,
  Fits<CfDurableObjectNamespace, DurableObjectNamespaceLike>,
  Fits<CfExecutionContext, ExecutionContextLike>,
];
const bindingShapesFit: BindingShapesFit = [true, true, true, true];
void bindingShapesFit;
