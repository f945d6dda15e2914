/**
 * In-memory stand-ins for the Worker's bindings, for tests that set races up
 * exactly in Node: KV (with a copy that lags, as KV does between locations),
 * a Durable Object's storage, and a namespace that gives each name its own
 * object, as the REFRESH_COORDINATOR binding does.
 */
import { RefreshCoordinator } from "../../src/worker/refresh-coordinator.js";
import type {
  DurableObjectNamespaceLike,
  DurableObjectStub,
  DurableStorageLike,
  KvNamespace,
  WorkerEnv,
} from "../../src/worker/env.js";

export class MemoryKv implements KvNamespace {
  readonly values = new Map<string, string>();
  async get(key: string) {
    return this.values.get(key) ?? null;
  }
  async put(key: string, value: string) {
    this.values.set(key, value);
  }
  async delete(key: string) {
    this.values.delete(key);
  }
}

/** A location KV has not reached yet: it keeps answering with what it held when frozen. */
export class LaggingKv extends MemoryKv {
  constructor(private readonly source: MemoryKv) {
    super();
  }
  freeze() {
    for (const [k, v] of this.source.values) this.values.set(k, v);
  }
  override async put() {
    // the write lands elsewhere; this location does not see it
  }
}

export class MemoryStorage implements DurableStorageLike {
  readonly values = new Map<string, unknown>();
  async get<T>(key: string) {
    return this.values.has(key) ? (structuredClone(this.values.get(key)) as T) : undefined;
  }
  async put<T>(key: string, value: T) {
    this.values.set(key, structuredClone(value));
  }
}

/** One RefreshCoordinator per name, each with its own storage; `storages` lets a test lay out an older version's state. */
export class MemoryNamespace implements DurableObjectNamespaceLike {
  readonly objects = new Map<string, RefreshCoordinator>();
  readonly storages = new Map<string, MemoryStorage>();

  constructor(private readonly env: WorkerEnv) {}

  storage(name: string): MemoryStorage {
    let storage = this.storages.get(name);
    if (!storage) {
      storage = new MemoryStorage();
      this.storages.set(name, storage);
    }
    return storage;
  }

  idFromName(name: string): unknown {
    return name;
  }

  get(id: unknown): DurableObjectStub {
    const name = String(id);
    let object = this.objects.get(name);
    if (!object) {
      object = new RefreshCoordinator({ storage: this.storage(name) }, this.env);
      this.objects.set(name, object);
    }
    const target = object;
    return { fetch: (input, init) => target.fetch(new Request(input, init)) };
  }
}
