/**
 * The fake Codex backend itself, through real HTTP: the rest of the suite and
 * the benchmark trust it to behave like docs/protocol.md §4.4/§5 says.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fakeCodexBackendAt, startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { RESPONSES_FIELDS } from "../fake/codex-validation.js";
import { startFakeOAuthServer } from "../fake/oauth-server.js";
import { parseSseJson, type SseEvent } from "../helpers/sse.js";

const parseSse = parseSseJson;

let backend: FakeCodexBackend;
const AUTH = {
  authorization: "Bearer good-token",
  "chatgpt-account-id": "acct_123",
  "content-type": "application/json",
};

function validBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: "gpt-5.5",
    instructions: "You are a helpful assistant.",
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "hello" }] }],
    stream: true,
    store: false,
    include: ["reasoning.encrypted_content"],
    reasoning: { effort: "low", summary: "auto" },
    ...extra,
  };
}

function post(body: unknown, headers: Record<string, string> = AUTH, signal?: AbortSignal): Promise<Response> {
  return fetch(`${backend.url}/responses`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
}

async function stream(body: unknown = validBody()): Promise<SseEvent[]> {
  const res = await post(body);
  expect(res.status).toBe(200);
  return parseSse(await res.text());
}

function expectWellFormed(events: SseEvent[]): void {
  events.forEach((e, i) => {
    expect(e.data.type).toBe(e.event);
    expect(e.data.sequence_number).toBe(i);
  });
}

beforeAll(async () => {
  backend = await startFakeCodexBackend({ acceptedTokens: ["good-token"] });
});
afterAll(() => backend.close());
beforeEach(() => backend.reset());

describe("a valid request", () => {
  it("streams a fixture-shaped answer ending in response.completed with an empty output", async () => {
    const res = await post(validBody());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]+$/);
    expect(res.headers.get("x-codex-primary-window-minutes")).toBe("300");
    expect(res.headers.get("x-codex-secondary-window-minutes")).toBe("10080");
    const text = await res.text();
    expect(text).not.toContain("[DONE]");
    expect(text.startsWith('event: response.created\ndata: {"type":"response.created","sequence_number":0,')).toBe(
      true,
    );
    const events = parseSse(text);
    expectWellFormed(events);
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      ...Array(5).fill("response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const [created] = events;
    expect(created!.data.response).toMatchObject({
      object: "response",
      status: "in_progress",
      model: "gpt-5.5",
      store: false,
      instructions: "You are a helpful assistant.",
    });
    expect(created!.data.response.id).toMatch(/^resp_[0-9a-f]{32}$/);

    const reasoning = events[2]!.data;
    expect(reasoning.output_index).toBe(0);
    expect(reasoning.item).toMatchObject({ type: "reasoning", summary: [] });
    expect(reasoning.item.id).toMatch(/^rs_[0-9a-f]+$/);
    expect(reasoning.item.encrypted_content).toMatch(/^gAAAAA/);

    const message = events[4]!.data;
    expect(message.output_index).toBe(1);
    expect(message.item).toMatchObject({
      type: "message",
      role: "assistant",
      status: "in_progress",
      phase: "final_answer",
    });
    const deltas = events.filter((e) => e.event === "response.output_text.delta");
    expect(deltas.every((d) => d.data.item_id === message.item.id && d.data.output_index === 1)).toBe(true);
    const joined = deltas.map((d) => d.data.delta).join("");
    expect(joined).toBe("Echo: hello");
    expect(events.find((e) => e.event === "response.output_text.done")!.data.text).toBe(joined);

    const completed = events.at(-1)!.data.response;
    expect(completed.status).toBe("completed");
    expect(completed.output).toEqual([]);
    expect(completed.usage).toMatchObject({
      input_tokens: expect.any(Number),
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: expect.any(Number) },
    });
    expect(completed.usage.total_tokens).toBe(completed.usage.input_tokens + completed.usage.output_tokens);
  });

  it("omits encrypted_content when not included, streams summary paragraphs, honours usage and deltaCount", async () => {
    backend.enqueue({
      kind: "text",
      text: "Bonjour à tous 👋 !",
      reasoningSummary: ["**Plan**\n\nSay hi.", "**Check**\n\nDone."],
      deltaCount: 19,
      usage: { input_tokens: 30, cached_tokens: 20, output_tokens: 5, reasoning_tokens: 2 },
    });
    const events = await stream(validBody({ include: undefined }));
    expectWellFormed(events);
    expect(events[2]!.data.item.encrypted_content).toBeUndefined();
    const parts = events
      .filter((e) => e.event === "response.reasoning_summary_part.added")
      .map((e) => e.data.summary_index);
    expect(parts).toEqual([0, 1]);
    const summary0 = events
      .filter((e) => e.event === "response.reasoning_summary_text.delta" && e.data.summary_index === 0)
      .map((e) => e.data.delta)
      .join("");
    expect(summary0).toBe("**Plan**\n\nSay hi.");
    const reasoningDone = events.find((e) => e.event === "response.output_item.done" && e.data.output_index === 0)!;
    expect(reasoningDone.data.item.summary).toEqual([
      { type: "summary_text", text: "**Plan**\n\nSay hi." },
      { type: "summary_text", text: "**Check**\n\nDone." },
    ]);
    const deltas = events.filter((e) => e.event === "response.output_text.delta").map((e) => e.data.delta as string);
    expect(deltas).toHaveLength(18); // 18 code points: the emoji stays whole
    expect(deltas.join("")).toBe("Bonjour à tous 👋 !");
    expect(events.at(-1)!.data.response.usage).toEqual({
      input_tokens: 30,
      input_tokens_details: { cached_tokens: 20 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 2 },
      total_tokens: 35,
    });
  });

  it("echoes the scenario model and writes 2,000 deltas", async () => {
    const text = Array.from({ length: 2000 }, (_, i) => `w${i % 100} `).join("");
    backend.enqueue({ kind: "text", text, deltaCount: 2000, model: "gpt-5.5-2026-08-01" });
    // How fast is the benchmark's business (bench/run.ts measures it); here only what is written.
    const events = await stream();
    expectWellFormed(events);
    const deltas = events.filter((e) => e.event === "response.output_text.delta");
    expect(deltas).toHaveLength(2000);
    expect(deltas.map((d) => d.data.delta).join("")).toBe(text);
    expect(events[0]!.data.response.model).toBe("gpt-5.5-2026-08-01");
    expect(events.at(-1)!.event).toBe("response.completed");
  });

  it("streams a commentary preamble and sequential function calls", async () => {
    backend.enqueue({
      kind: "tool_calls",
      preamble: "Checking the weather and the time.",
      calls: [
        { name: "get_weather", arguments: '{"city":"Tokyo"}', callId: "call_fixed" },
        { name: "get_local_time", arguments: '{"tz":"Asia/Tokyo"}' },
      ],
      argumentDeltas: 4,
    });
    const events = await stream();
    expectWellFormed(events);
    const added = events
      .filter((e) => e.event === "response.output_item.added")
      .map((e) => [e.data.output_index, e.data.item.type, e.data.item.phase]);
    expect(added).toEqual([
      [0, "reasoning", undefined],
      [1, "message", "commentary"],
      [2, "function_call", undefined],
      [3, "function_call", undefined],
    ]);
    const calls = events
      .filter((e) => e.event === "response.output_item.added" && e.data.item.type === "function_call")
      .map((e) => e.data.item);
    expect(calls[0]).toMatchObject({
      call_id: "call_fixed",
      name: "get_weather",
      arguments: "",
      status: "in_progress",
    });
    expect(calls[1].call_id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(calls[1].id).toMatch(/^fc_[0-9a-f]+$/);
    const args = events.filter(
      (e) => e.event === "response.function_call_arguments.delta" && e.data.item_id === calls[0].id,
    );
    expect(args).toHaveLength(4);
    expect(args.map((e) => e.data.delta).join("")).toBe('{"city":"Tokyo"}');
    const done = events.filter((e) => e.event === "response.output_item.done" && e.data.item.type === "function_call");
    expect(done.map((e) => e.data.item.arguments)).toEqual(['{"city":"Tokyo"}', '{"tz":"Asia/Tokyo"}']);
    expect(events.at(-1)!.data.response.output).toEqual([]);
  });

  it("serves the failure scenarios in the fixtures' shapes", async () => {
    backend.enqueue(
      {
        kind: "failed",
        code: "context_length_exceeded",
        message: "Your input exceeds the context window of this model.",
      },
      { kind: "error_event", code: "rate_limit_exceeded", message: "Please try again in 2.4s." },
      { kind: "incomplete", reason: "max_output_tokens", text: "Partial" },
      { kind: "raw", sse: readFileSync(new URL("../fixtures/function-call.sse", import.meta.url), "utf8") },
    );
    const failed = await stream();
    expect(failed.map((e) => e.event)).toEqual(["response.created", "response.in_progress", "response.failed"]);
    expect(failed[2]!.data.response).toMatchObject({
      status: "failed",
      error: { code: "context_length_exceeded" },
      usage: null,
    });

    const error = await stream();
    expect(error.map((e) => e.event)).toEqual(["response.created", "error"]);
    expect(error[1]!.data).toMatchObject({
      code: "rate_limit_exceeded",
      message: "Please try again in 2.4s.",
      param: null,
    });

    const incomplete = await stream();
    expectWellFormed(incomplete);
    expect(incomplete.at(-1)!.data.response).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
    });

    const raw = await stream();
    expect(raw.at(-1)!.data.response.output).toEqual([]);
    expect(
      raw.find((e) => e.event === "response.output_item.added" && e.data.item.type === "function_call")!.data.item
        .call_id,
    ).toBe("call_Qm3vT8xYp2LkR7nD5sWe1HcZ");
  });

  it("answers an http scenario as it is, before looking at the request", async () => {
    backend.enqueue({
      kind: "http",
      status: 429,
      body: '{"error":{"type":"usage_limit_reached","resets_in_seconds":60}}',
    });
    const res = await post({ not: "even valid" });
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-codex-active-limit")).toBe("codex");
    expect((await res.json()).error.type).toBe("usage_limit_reached");

    backend.enqueue({
      kind: "http",
      status: 403,
      body: "<html>Just a moment...</html>",
      headers: { "content-type": "text/html" },
    });
    const blocked = await post(validBody());
    expect(blocked.status).toBe(403);
    expect(blocked.headers.get("content-type")).toBe("text/html");
    expect(await blocked.text()).toContain("Just a moment");
  });
});

describe("request validation (docs/protocol.md §4.4)", () => {
  const user = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });
  const cases: Array<[string, unknown, unknown]> = [
    ["stream missing", validBody({ stream: undefined }), { detail: "Stream must be set to true" }],
    ["stream false", validBody({ stream: false }), { detail: "Stream must be set to true" }],
    ["store true", validBody({ store: true }), { detail: "Store must be set to false" }],
    ["instructions missing", validBody({ instructions: undefined }), { detail: "Instructions are required" }],
    ["instructions not a string", validBody({ instructions: ["x"] }), { detail: "Instructions are required" }],
    ["input a string", validBody({ input: "hello" }), { detail: "Input must be a list" }],
    [
      "system message",
      validBody({ input: [{ type: "message", role: "system", content: "x" }, user("hi")] }),
      { detail: "System messages are not allowed" },
    ],
    ...[
      "max_output_tokens",
      "max_completion_tokens",
      "max_tokens",
      "temperature",
      "top_p",
      "user",
      "truncation",
      "stream_options",
      "prompt_cache_retention",
      "safety_identifier",
      "previous_response_id",
      "n",
      "presence_penalty",
      "frequency_penalty",
      "seed",
      "logprobs",
      "metadata",
      // Not on any list of known rejections: the fake allows only the fields the backend takes.
      "prompt_cache_options",
      "background",
      "a_field_from_the_future",
    ].map((name): [string, unknown, unknown] => [
      name,
      validBody({ [name]: name === "user" ? "u" : 1 }),
      { detail: `Unsupported parameter: ${name}` },
    ]),
    [
      "chat-style tool",
      validBody({
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: {} } } }],
      }),
      {
        error: {
          message: "Missing required parameter: 'tools[0].name'.",
          type: "invalid_request_error",
          param: "tools[0].name",
          code: "missing_required_parameter",
        },
      },
    ],
    [
      "tool name > 64",
      validBody({
        tools: [{ type: "function", name: "a".repeat(65), parameters: { type: "object", properties: {} } }],
      }),
      { error: { param: "tools[0].name", code: "invalid_value" } },
    ],
    [
      "function_call without output",
      validBody({ input: [user("x"), { type: "function_call", call_id: "call_abc", name: "f", arguments: "{}" }] }),
      { error: { message: "No tool output found for function call call_abc." } },
    ],
    [
      "function_call_output without call",
      validBody({ input: [user("x"), { type: "function_call_output", call_id: "call_zzz", output: "1" }] }),
      { error: { type: "invalid_request_error" } },
    ],
    [
      "unknown model",
      validBody({ model: "gpt-5" }),
      { detail: "The 'gpt-5' model is not supported when using Codex with a ChatGPT account." },
    ],
    [
      "effort not supported",
      validBody({ reasoning: { effort: "minimal" } }),
      { error: { param: "reasoning.effort", code: "unsupported_value" } },
    ],
    [
      "effort of another model",
      validBody({ model: "gpt-5.5", reasoning: { effort: "ultra" } }),
      { error: { param: "reasoning.effort" } },
    ],
    [
      "summary brief",
      validBody({ reasoning: { effort: "low", summary: "brief" } }),
      { error: { param: "reasoning.summary" } },
    ],
    [
      "verbosity",
      validBody({ text: { verbosity: "extreme" } }),
      { error: { param: "text.verbosity", code: "unsupported_value" } },
    ],
    [
      "image on a text-only model",
      validBody({
        model: "gpt-5.3-codex-spark",
        reasoning: undefined,
        input: [
          {
            type: "message",
            role: "user",
            content: [{ type: "input_image", image_url: "data:image/png;base64,AAAA" }],
          },
        ],
      }),
      { error: { type: "invalid_request_error" } },
    ],
    ["service_tier flex", validBody({ service_tier: "flex" }), { error: { param: "service_tier" } }],
    [
      "item id > 64",
      validBody({ input: [{ ...user("x"), id: `msg_${"a".repeat(61)}` }] }),
      { error: { param: "input[0].id" } },
    ],
    [
      "reasoning item last",
      validBody({ input: [user("x"), { type: "reasoning", id: "rs_1", summary: [] }] }),
      { error: { message: "Item 'rs_1' of type 'reasoning' was provided without its required following item." } },
    ],
  ];

  it.each(cases)("rejects %s with a 400 and the backend's message", async (_name, body, expected) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toMatchObject(expected as object);
    expect(backend.requests).toHaveLength(1);
    expect(backend.requests[0]!.body).toEqual(JSON.parse(JSON.stringify(body)));
  });

  it("accepts what a correct client sends: paired tool calls, priority tier, images, replayed reasoning", async () => {
    const res = await post(
      validBody({
        model: "gpt-5.6-sol",
        reasoning: { effort: "ultra", summary: "detailed" },
        text: { verbosity: "low" },
        service_tier: "priority",
        tools: [{ type: "function", name: "f", parameters: { type: "object", properties: {} } }],
        input: [
          {
            type: "message",
            role: "user",
            content: [
              { type: "input_text", text: "look" },
              { type: "input_image", image_url: "data:image/png;base64,AAAA" },
            ],
          },
          { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "gAAA" },
          { type: "function_call", call_id: "call_1", name: "f", arguments: "{}" },
          { type: "function_call_output", call_id: "call_1", output: "42" },
        ],
      }),
    );
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events[0]!.data.response).toMatchObject({
      model: "gpt-5.6-sol",
      reasoning: { effort: "ultra", summary: "detailed" },
      service_tier: "priority",
    });
    expect(
      events
        .filter((e) => e.event === "response.output_text.delta")
        .map((e) => e.data.delta)
        .join(""),
    ).toBe("Echo: look");
  });

  it("rejects a body that is not JSON and a missing account id", async () => {
    expect((await post("{not json")).status).toBe(400);
    const { "chatgpt-account-id": _omit, ...noAccount } = AUTH;
    const res = await post(validBody(), noAccount);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: "Missing chatgpt-account-id header" });
    // The header name is case-insensitive.
    expect((await post(validBody(), { ...noAccount, "ChatGPT-Account-ID": "acct" })).status).toBe(200);
    expect(backend.requests).toHaveLength(3);
  });
});

describe("the fields the backend takes", () => {
  it("accepts every one of them in one request", async () => {
    const body = validBody({
      tools: [{ type: "function", name: "f", parameters: { type: "object", properties: {} } }],
      tool_choice: "auto",
      parallel_tool_calls: true,
      reasoning: { effort: "medium", summary: "auto" },
      include: ["reasoning.encrypted_content"],
      prompt_cache_key: "conversation-1",
      text: { verbosity: "low" },
      client_metadata: { "x-codex-installation-id": "00000000-0000-4000-8000-000000000000" },
      service_tier: "priority",
    });
    expect(Object.keys(body).sort()).toEqual([...RESPONSES_FIELDS].sort());
    const res = await post(body);
    expect(res.status, await res.clone().text()).toBe(200);
    await res.arrayBuffer();
  });
});

describe("auth", () => {
  it("401s a missing bearer token, and any token it was not given", async () => {
    const { authorization: _omit, ...noAuth } = AUTH;
    const res = await post(validBody(), noAuth);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: "Unauthorized" });
    expect((await post(validBody(), { ...AUTH, authorization: "Bearer " })).status).toBe(401);
    const anything = await post(validBody(), { ...AUTH, authorization: "Bearer anything" });
    expect(anything.status).toBe(401);
    expect(await anything.json()).toEqual({ detail: "Unauthorized" });
  });

  it("accepts the access tokens of a fake OAuth server it trusts, issued before or after, and no others", async () => {
    const oauth = await startFakeOAuthServer();
    const other = await startFakeOAuthServer();
    const early = oauth.issueTokens().access_token;
    const trusting = await startFakeCodexBackend({ issuers: [oauth] });
    try {
      const call = (token: string) =>
        fetch(`${trusting.url}/models?client_version=0.146.0`, { headers: { authorization: `Bearer ${token}` } }).then(
          async (r) => {
            await r.arrayBuffer();
            return r.status;
          },
        );
      expect(await call(early)).toBe(200);
      expect(await call(oauth.issueTokens().access_token)).toBe(200);
      const stranger = other.issueTokens().access_token;
      expect(await call(stranger)).toBe(401);
      trusting.acceptTokensFrom(other);
      expect(await call(stranger)).toBe(200);
      // Helpers that only get the URL find the fake by it.
      expect(fakeCodexBackendAt(`${trusting.url}/`)).toBe(trusting);
    } finally {
      await trusting.close();
      await oauth.close();
      await other.close();
    }
    expect(fakeCodexBackendAt(trusting.url)).toBeUndefined();
  });

  it("accepts only the configured tokens, changeable at runtime", async () => {
    const strict = await startFakeCodexBackend({ acceptedTokens: ["t1"] });
    try {
      const call = (token: string) =>
        fetch(`${strict.url}/responses`, {
          method: "POST",
          headers: { ...AUTH, authorization: `Bearer ${token}` },
          body: JSON.stringify(validBody()),
        }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        });
      expect(await call("t1")).toBe(200);
      expect(await call("t2")).toBe(401);
      strict.acceptToken("t2");
      strict.rejectToken("t1");
      expect(await call("t2")).toBe(200);
      expect(await call("t1")).toBe(401);
      const models = await fetch(`${strict.url}/models?client_version=0.146.0`, {
        headers: { authorization: "Bearer t1" },
      });
      expect(models.status).toBe(401);
      expect(strict.requests.map((r) => r.path)).toEqual([
        ...Array(4).fill("/backend-api/codex/responses"),
        "/backend-api/codex/models",
      ]);
    } finally {
      await strict.close();
    }
  });
});

describe("models and other routes", () => {
  it("serves the catalogue, filtered by client_version", async () => {
    const res = await fetch(`${backend.url}/models?client_version=0.146.0`, { headers: AUTH });
    expect(res.status).toBe(200);
    const { models } = await res.json();
    expect(models.map((m: { slug: string }) => m.slug)).toEqual([
      "gpt-5.6-sol",
      "gpt-5.5",
      "gpt-5.4",
      "gpt-5.4-mini",
      "gpt-5.3-codex-spark",
      "codex-auto-review",
    ]);
    for (const model of models) {
      for (const field of [
        "display_name",
        "visibility",
        "priority",
        "default_reasoning_level",
        "support_verbosity",
        "supports_reasoning_summaries",
        "supports_parallel_tool_calls",
        "input_modalities",
        "minimal_client_version",
      ]) {
        expect(model).toHaveProperty(field);
      }
      expect(model.supported_reasoning_levels[0]).toEqual({
        effort: expect.any(String),
        description: expect.any(String),
      });
    }
    expect(models.find((m: { slug: string }) => m.slug === "codex-auto-review").visibility).toBe("hide");
    expect(models.find((m: { slug: string }) => m.slug === "gpt-5.3-codex-spark").input_modalities).toEqual(["text"]);

    const old = await (await fetch(`${backend.url}/models?client_version=0.120.0`, { headers: AUTH })).json();
    expect(old.models.map((m: { slug: string }) => m.slug)).not.toContain("gpt-5.5");
    expect(backend.requests[0]!.query.get("client_version")).toBe("0.146.0");
    expect((await fetch(`${backend.url}/models`)).status).toBe(401);
  });

  it("404s anything else", async () => {
    const res = await fetch(`${backend.origin}/backend-api/codex/nope`, { headers: AUTH });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect((await fetch(`${backend.url}/responses`, { headers: AUTH })).status).toBe(404);
  });
});

describe("scenario queue and stream lifecycle", () => {
  const answer = async () =>
    (await stream())
      .filter((e) => e.event === "response.output_text.delta")
      .map((e) => e.data.delta)
      .join("");

  it("serves enqueued scenarios FIFO, then the default; setDefault and reset", async () => {
    backend.enqueue({ kind: "text", text: "first" }, { kind: "text", text: "second" });
    expect(await answer()).toBe("first");
    expect(await answer()).toBe("second");
    expect(await answer()).toBe("Echo: hello");
    backend.setDefault((body) => ({ kind: "text", text: `model=${body.model}` }));
    expect(await answer()).toBe("model=gpt-5.5");
    // A rejected request does not use up a queued scenario.
    backend.enqueue({ kind: "text", text: "kept" });
    expect((await post(validBody({ stream: false }))).status).toBe(400);
    expect(await answer()).toBe("kept");
    expect(backend.requests).toHaveLength(6);
    backend.enqueue({ kind: "text", text: "dropped" });
    backend.reset();
    expect(backend.requests).toHaveLength(0);
    expect(await answer()).toBe("Echo: hello");
  });

  it("cut: streams some deltas then closes without a terminal event (not a client disconnect)", async () => {
    backend.enqueue({ kind: "cut", afterDeltas: 2, text: "partial answer that never ends" });
    const res = await post(validBody());
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const outcome = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return "ended";
        text += decoder.decode(value, { stream: true });
      }
    })().catch(() => "error");
    expect(outcome).toBe("error"); // the chunked body never terminates properly
    const events = parseSse(text);
    expectWellFormed(events);
    expect(events.filter((e) => e.event === "response.output_text.delta")).toHaveLength(2);
    expect(
      events.some((e) => ["response.completed", "response.failed", "response.incomplete", "error"].includes(e.event)),
    ).toBe(false);
    expect(backend.closedEarly).toBe(0);
  });

  it("counts an aborted slow stream in closedEarly and stops writing", async () => {
    backend.enqueue({ kind: "slow", text: "a slow answer that takes a while", deltaCount: 20, delayMs: 500 });
    const controller = new AbortController();
    const res = await post(validBody(), AUTH, controller.signal);
    const reader = res.body!.getReader();
    await reader.read();
    expect(backend.openStreams()).toBe(1);
    controller.abort();
    await backend.waitForClosedEarly(1, 15_000);
    expect(backend.closedEarly).toBe(1);
    await expect.poll(() => backend.openStreams(), { timeout: 15_000 }).toBe(0);
    // A stream that finished is not counted.
    backend.enqueue({ kind: "slow", text: "abc", deltaCount: 3, delayMs: 10 });
    expect((await stream()).at(-1)!.event).toBe("response.completed");
    expect(backend.closedEarly).toBe(1);
    await expect(backend.waitForClosedEarly(2, 50)).rejects.toThrow(/only 1 of 2/);
  });

  it("hang never sends headers; the client giving up counts as closedEarly", async () => {
    backend.enqueue({ kind: "hang" });
    const error = await post(validBody(), AUTH, AbortSignal.timeout(150)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    await backend.waitForClosedEarly(1, 15_000);
    expect(backend.openStreams()).toBe(0);
  });
});
