/**
 * The few Workers runtime shapes we use, declared structurally: importing
 * @cloudflare/workers-types globally would clash with the DOM types the
 * rest of the code (and Node) uses.
 */

export interface KvNamespace {
  get(key: string, type: "text"): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface DurableObjectStub {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStub;
}

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
