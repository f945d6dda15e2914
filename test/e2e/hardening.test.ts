/**
 * Safe by default, honest under failure: access control, a corpus of bad
 * requests, upstream failures and client disconnects, all through real HTTP
 * against the fake backend. (Backpressure and `serve` as a process have files
 * of their own: backpressure.test.ts, serve-process.test.ts.)
 */
import http from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { runCliInProcess, tempHome } from "../helpers/cli.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let backend: FakeCodexBackend;
let proxy: TestProxy;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
  // The default upstream timeouts (a minute and more): a slow machine must not turn a test's answer into a 504.
  // The timeout test starts proxies of its own with short ones.
  proxy = await startTestProxy({ codexBaseUrl: backend.url, env: { MAX_BODY_MB: "1" } });
});
afterAll(async () => {
  await proxy?.close(100);
  await backend?.close();
});
beforeEach(() => backend.reset());

const post = (path: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
  fetch(`${proxy.baseURL}${path}`, { method: "POST", headers, body });

function malformedCorpus(): Array<[path: string, body: string]> {
  const chat = "/chat/completions";
  const resp = "/responses";
  const bodies: Array<[string, string]> = [];
  const raw = [
    "",
    "{",
    "}",
    "[",
    "null",
    "true",
    "42",
    '"text"',
    "[]",
    "[{}]",
    "{'a':1}",
    '{"a":}',
    "\u0000",
    '{"messages": [}',
    "not json at all",
    '{"a":1,}',
    '{"a" 1}',
  ];
  for (const body of raw) bodies.push([chat, body], [resp, body]);
  const messages: unknown[] = [
    undefined,
    null,
    1,
    "hi",
    {},
    [],
    [null],
    [1],
    ["hi"],
    [{}],
    [{ role: 1 }],
    [{ role: "robot", content: "x" }],
    [{ role: "user" }],
    [{ role: "user", content: 5 }],
    [{ role: "user", content: {} }],
    [{ role: "user", content: [] }],
    [{ role: "user", content: [null] }],
    [{ role: "user", content: [{ type: "text" }] }],
    [{ role: "user", content: [{ type: "text", text: 5 }] }],
    [{ role: "user", content: [{ type: "image_url" }] }],
    [{ role: "user", content: [{ type: "image_url", image_url: { url: 5 } }] }],
    [{ role: "user", content: [{ type: "image_url", image_url: { url: "ftp://x" } }] }],
    [{ role: "user", content: [{ type: "video" }] }],
    [{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }],
    [{ role: "system", content: 5 }],
    [{ role: "system", content: [{ type: "image_url" }] }],
    [{ role: "tool", content: "x" }],
    [{ role: "tool", tool_call_id: 5, content: "x" }],
    [
      { role: "user", content: "x" },
      { role: "tool", tool_call_id: "nope", content: "x" },
    ],
    [{ role: "assistant" }],
    [{ role: "assistant", tool_calls: {} }],
    [{ role: "assistant", tool_calls: [null] }],
    [{ role: "assistant", tool_calls: [{}] }],
    [{ role: "assistant", tool_calls: [{ id: "c", function: {} }] }],
    [
      { role: "user", content: "x" },
      { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] },
    ],
  ];
  for (const m of messages) bodies.push([chat, JSON.stringify({ model: "gpt-5.5", messages: m })]);
  const ok = [{ role: "user", content: "x" }];
  const chatFields: Array<Record<string, unknown>> = [
    { model: 5 },
    { model: {} },
    { stream: "yes" },
    { stream: 1 },
    { n: 2 },
    { n: 0 },
    { n: "2" },
    { n: 1.5 },
    { tools: {} },
    { tools: [null] },
    { tools: [1] },
    { tools: [{}] },
    { tools: [{ type: "function" }] },
    { tools: [{ type: "function", function: {} }] },
    { tools: [{ type: "function", function: { name: "" } }] },
    { tools: [{ type: "function", function: { name: "bad name!" } }] },
    { tools: [{ type: "function", function: { name: "f", parameters: 5 } }] },
    { tools: [{ type: "retrieval" }] },
    { tool_choice: "maybe", tools: [{ type: "function", function: { name: "f" } }] },
    { tool_choice: 5, tools: [{ type: "function", function: { name: "f" } }] },
    { tool_choice: "required" },
    { response_format: 5 },
    { response_format: {} },
    { response_format: { type: "xml" } },
    { response_format: { type: "json_schema" } },
    { response_format: { type: "json_schema", json_schema: { schema: 5 } } },
    { reasoning_effort: 5 },
    { reasoning_effort: "extreme" },
    { stream_options: 5 },
    { model: "gpt-5.5", reasoning_effort: "ultra" },
  ];
  for (const extra of chatFields) bodies.push([chat, JSON.stringify({ messages: ok, ...extra })]);
  const respFields: Array<Record<string, unknown>> = [
    { input: 5 },
    { input: {} },
    { input: [5] },
    { input: [null] },
    { input: [{}] },
    { input: [{ role: 5 }] },
    { input: [{ role: "user", content: 5 }] },
    { input: "x", model: 5 },
    { input: "x", stream: "yes" },
    { input: "x", instructions: 5 },
    { input: "x", instructions: {} },
    { input: "x", tools: {} },
    { input: "x", tools: [5] },
    { input: "x", tools: [{ type: "function" }] },
    { input: "x", tools: [{ type: "function", function: {} }] },
    { input: "x", previous_response_id: "resp_1" },
    { input: "x", reasoning: 5 },
    { input: "x", text: 5 },
    { input: "x", reasoning: "high" },
  ];
  for (const extra of respFields) bodies.push([resp, JSON.stringify(extra)]);
  return bodies;
}

describe("bad input", () => {
  it("answers a corpus of 100+ malformed requests with 4xx in the OpenAI shape, and the next valid request still works", async () => {
    const corpus = malformedCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(100);
    for (const [path, body] of corpus) {
      const res = await post(path, body);
      const text = await res.text();
      const label = `${path} ${body.slice(0, 120)} → ${res.status} ${text.slice(0, 200)}`;
      expect(res.status, label).toBeGreaterThanOrEqual(400);
      expect(res.status, label).toBeLessThan(500);
      const json = JSON.parse(text);
      expect(typeof json.error?.message, label).toBe("string");
      expect(json.error.message.length, label).toBeGreaterThan(5);
    }
    const ok = await post(
      "/chat/completions",
      JSON.stringify({ messages: [{ role: "user", content: "still fine?" }] }),
    );
    expect(ok.status).toBe(200);
    expect((await ok.json()).choices[0].message.content).toBe("Echo: still fine?");
  });

  it("limits the body size (413) and allows large images under the limit", async () => {
    const big = JSON.stringify({ messages: [{ role: "user", content: "x".repeat(1.2 * 1024 * 1024) }] });
    const res = await post("/chat/completions", big);
    expect(res.status).toBe(413);
    expect((await res.json()).error.message).toMatch(/MAX_BODY_MB/);
    const image = `data:image/png;base64,${"A".repeat(700 * 1024)}`;
    const ok = await post(
      "/chat/completions",
      JSON.stringify({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: image } }] }] }),
    );
    expect(ok.status).toBe(200);
  });

  it("refuses a chunked body (no Content-Length) once it passes the limit, with a 413 the client receives", async () => {
    const piece = Buffer.alloc(64 * 1024, "x");
    // One keep-alive connection for both requests: the refused body must not leave it unusable.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${proxy.baseURL}/chat/completions`,
          {
            method: "POST",
            agent,
            headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${proxy.baseURL}/chat/completions`,
        { method: "POST", agent, headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.write('{"messages":[{"role":"user","content":"');
      // 2 MiB against a 1 MiB limit, sent as the client produces it.
      let sent = 0;
      const more = () => {
        while (sent < 32) {
          sent++;
          if (!req.write(piece)) return void req.once("drain", more);
        }
        req.end('"}]}');
      };
      more();
    });
    expect(status).toBe(413);
    expect(await send(JSON.stringify({ messages: [{ role: "user", content: "still fine" }] }))).toBe(200);
    agent.destroy();
  });

  it("answers unknown routes 404 and wrong methods 405 with Allow", async () => {
    const unknown = await fetch(`${proxy.url}/v2/anything`);
    expect(unknown.status).toBe(404);
    const wrong = await fetch(`${proxy.baseURL}/responses`, { method: "PUT", body: "{}" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect((await wrong.json()).error.code).toBe("method_not_allowed");
  });
});

describe("upstream failures", () => {
  const client = () => new OpenAI({ baseURL: proxy.baseURL, apiKey: "x", maxRetries: 0 });

  it("usage_limit_reached → 429 with Retry-After and the reset time, not retried", async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    backend.enqueue({
      kind: "http",
      status: 429,
      body: JSON.stringify({
        error: {
          type: "usage_limit_reached",
          message: "The usage limit has been reached",
          plan_type: "plus",
          resets_at: resetsAt,
          resets_in_seconds: 3600,
        },
      }),
    });
    const res = await post("/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "x" }] }));
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3590);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    const body = await res.json();
    expect(body.error.code).toBe("usage_limit_reached");
    expect(body.error.resets_at).toBe(resetsAt);
    expect(body.error.message).toContain(new Date(resetsAt * 1000).toISOString());
    expect(backend.requests.filter((r) => r.path.endsWith("/responses"))).toHaveLength(1);
  });

  it("usage_not_included → a clear error that the plan lacks Codex", async () => {
    backend.enqueue({
      kind: "http",
      status: 429,
      body: JSON.stringify({ error: { type: "usage_not_included", message: "nope" } }),
    });
    const error = await client()
      .chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(/plan does not include Codex/);
  });

  it("retries 5xx and throttling 429s before the first byte, then succeeds", async () => {
    backend.enqueue(
      { kind: "http", status: 500, body: '{"error":{"code":"server_error"}}' },
      { kind: "http", status: 429, body: '{"error":{"type":"rate_limit_exceeded","message":"slow down"}}' },
      { kind: "text", text: "third time lucky" },
    );
    const res = await post("/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "x" }] }));
    expect(res.status).toBe(200);
    expect((await res.json()).choices[0].message.content).toBe("third time lucky");
    expect(backend.requests.filter((r) => r.path.endsWith("/responses"))).toHaveLength(3);
  });

  it("gives up after 2 retries with a 502", async () => {
    backend.enqueue(
      ...Array.from({ length: 3 }, () => ({
        kind: "http" as const,
        status: 503,
        body: '{"error":{"code":"server_is_overloaded"}}',
      })),
    );
    const res = await post("/responses", JSON.stringify({ input: "x" }));
    expect(res.status).toBe(502);
    expect(backend.requests.filter((r) => r.path.endsWith("/responses"))).toHaveLength(3);
  });

  it("names Cloudflare when the backend answers with the HTML challenge", async () => {
    backend.enqueue({
      kind: "http",
      status: 403,
      body: "<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>",
      headers: { "content-type": "text/html; charset=UTF-8", "cf-mitigated": "challenge" },
    });
    const res = await post("/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "x" }] }));
    expect(res.status).toBe(502);
    expect((await res.json()).error.message).toMatch(/Cloudflare/);
  });

  it("times out an upstream that never answers (connect timeout) and one that goes silent (idle timeout)", async () => {
    // Each proxy has one short timeout and the long default for the other, and each scenario never ends
    // by itself: the outcome does not depend on how fast this machine is.
    const connect = await startTestProxy({ codexBaseUrl: backend.url, env: { UPSTREAM_CONNECT_TIMEOUT_MS: "1000" } });
    const idle = await startTestProxy({ codexBaseUrl: backend.url, env: { UPSTREAM_IDLE_TIMEOUT_MS: "1000" } });
    try {
      backend.enqueue({ kind: "hang" });
      const hung = await fetch(`${connect.baseURL}/responses`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: "x" }),
      });
      expect(hung.status).toBe(504);
      expect((await hung.json()).error.code).toBe("upstream_timeout");

      // The first delta, then silence far longer than the test.
      backend.enqueue({ kind: "slow", text: "abcdefghij", deltaCount: 5, delayMs: 10 * 60_000 });
      const silent = await fetch(`${idle.baseURL}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "x" }], stream: true }),
      });
      expect(silent.status).toBe(200);
      const text = await silent.text();
      expect(text).toContain("upstream_idle_timeout");
      expect(text.trim().endsWith("data: [DONE]")).toBe(true);
      // Both upstream requests were given up by the proxy, not finished by the fake.
      await backend.waitForClosedEarly(2, 10_000);
    } finally {
      await connect.close(100);
      await idle.close(100);
    }
  });

  it("a backend that refuses connections → bounded retries, then a 503 that says so", async () => {
    const closed = await startTestProxy({ codexBaseUrl: "http://127.0.0.1:9/backend-api/codex" });
    const res = await fetch(`${closed.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.error.code).toBe("upstream_unreachable");
    expect(body.error.message).toMatch(/Could not reach the Codex backend/);
    // Two retries for the request (the model catalogue fetch retries the same way).
    expect(closed.logs.filter((l) => l.includes("retrying")).length).toBeGreaterThanOrEqual(2);
    await closed.close(100);
  });

  it("aborting a client stream aborts the upstream request at once", async () => {
    backend.enqueue({ kind: "slow", text: "a slow answer that takes a while", deltaCount: 20, delayMs: 1000 });
    const controller = new AbortController();
    const res = await fetch(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "x" }], stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    // A proxy that did not abort would let the fake finish the stream (20 × 1 s), which is not counted.
    await backend.waitForClosedEarly(1, 15_000);
    await expect.poll(() => backend.openStreams(), { timeout: 15_000 }).toBe(0);

    backend.enqueue({
      kind: "slow",
      text: "another slow answer for the responses route",
      deltaCount: 20,
      delayMs: 1000,
    });
    const controller2 = new AbortController();
    const res2 = await fetch(`${proxy.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: "x", stream: true }),
      signal: controller2.signal,
    });
    await res2.body!.getReader().read();
    controller2.abort();
    await backend.waitForClosedEarly(2, 15_000);
  });
});

describe("upstream connection pool", () => {
  it("reuses one keep-alive connection to the backend for sequential requests, streamed or not", async () => {
    // Warm: the model catalogue and a first request may open the connection.
    await post("/responses", JSON.stringify({ input: "warm", stream: true })).then((r) => r.text());
    const before = backend.connectionsOpened;
    for (let i = 0; i < 5; i++) {
      await post("/responses", JSON.stringify({ input: `r${i}`, stream: true })).then((r) => r.text());
      await post(
        "/chat/completions",
        JSON.stringify({ messages: [{ role: "user", content: `c${i}` }], stream: true }),
      ).then((r) => r.text());
      await post("/responses", JSON.stringify({ input: `n${i}` })).then((r) => r.text());
    }
    // Each answer ends with its terminal event; the rest of the body is read so the socket goes back to the pool.
    expect(backend.connectionsOpened - before).toBe(0);
  });
});

describe("access control", () => {
  it("requires PROXY_API_KEY on /v1/* when set (Bearer or X-API-Key), leaving /health open", async () => {
    const guarded = await startTestProxy({ codexBaseUrl: backend.url, env: { PROXY_API_KEY: "proxy-key-123456" } });
    const none = await fetch(`${guarded.baseURL}/models`);
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe("invalid_api_key");
    expect((await fetch(`${guarded.baseURL}/models`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect(
      (await fetch(`${guarded.baseURL}/models`, { headers: { authorization: "Bearer proxy-key-123456" } })).status,
    ).toBe(200);
    expect((await fetch(`${guarded.baseURL}/models`, { headers: { "x-api-key": "proxy-key-123456" } })).status).toBe(
      200,
    );
    expect((await fetch(`${guarded.url}/health`)).status).toBe(200);
    const sdk = new OpenAI({ baseURL: guarded.baseURL, apiKey: "proxy-key-123456", maxRetries: 0 });
    expect(
      (await sdk.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] })).choices[0]!
        .message.content,
    ).toBe("Echo: hi");
    await guarded.close(100);
  });

  it("sends no CORS headers unless CORS_ORIGINS is set", async () => {
    const res = await fetch(`${proxy.baseURL}/models`, { headers: { origin: "https://evil.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const withCors = await startTestProxy({ codexBaseUrl: backend.url, env: { CORS_ORIGINS: "https://app.example" } });
    const preflight = await fetch(`${withCors.baseURL}/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const other = await fetch(`${withCors.baseURL}/models`, { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    await withCors.close(100);
  });

  it("serve refuses a non-loopback HOST without PROXY_API_KEY, naming it", async () => {
    const result = await runCliInProcess(["serve", "--host", "0.0.0.0", "--port", "0"], {
      CODEX_PROXY_HOME: tempHome(),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/PROXY_API_KEY/);
  });
});
