/**
 * /v1/responses through the real server against the fake backend, driven by
 * real clients: the openai SDK, the Vercel AI SDK and a Codex-CLI-shaped request.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let backend: FakeCodexBackend;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
  proxy = await startTestProxy({ codexBaseUrl: backend.url });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close(100);
  await backend?.close();
});
beforeEach(() => backend.reset());

function lastResponsesRequest() {
  const found = backend.requests.filter((r) => r.path.endsWith("/responses")).at(-1);
  if (!found) throw new Error("no /responses request reached the backend");
  return found;
}

describe("POST /v1/responses", () => {
  it("aggregates a non-streaming answer with output rebuilt from output_item.done", async () => {
    backend.enqueue({ kind: "text", text: "Paris is the capital of France." });
    const response = await client.responses.create({ model: "gpt-5.5", input: "Capital of France?" });
    expect(response.output_text).toBe("Paris is the capital of France.");
    expect(response.status).toBe("completed");
    expect(response.usage?.total_tokens).toBeGreaterThan(0);

    const sent = lastResponsesRequest();
    expect(sent.body.stream).toBe(true);
    expect(sent.body.store).toBe(false);
    expect(sent.body.instructions).toBe("");
    expect(sent.body.input).toEqual([
      { type: "message", role: "user", content: [{ type: "input_text", text: "Capital of France?" }] },
    ]);
    expect(sent.headers.authorization).toBe("Bearer test-access-token");
    expect(sent.headers["chatgpt-account-id"]).toBe("acct_test");
    expect(sent.headers.originator).toBe("codex_cli_rs");
  });

  it("streams events as they arrive, ending with a completed response that carries the output", async () => {
    backend.enqueue({ kind: "text", text: "one two three four five six", deltaCount: 6 });
    const stream = await client.responses.create({ model: "gpt-5.5", input: "count", stream: true });
    const types: string[] = [];
    let text = "";
    let completedOutput: unknown[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") completedOutput = event.response.output;
    }
    expect(text).toBe("one two three four five six");
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types.filter((t) => t === "response.output_text.delta")).toHaveLength(6);
    expect(completedOutput.length).toBeGreaterThanOrEqual(1);
  });

  it("gives the SDK's responses.stream().finalResponse() the full answer", async () => {
    backend.enqueue({ kind: "text", text: "Final answer text." });
    const runner = client.responses.stream({ model: "gpt-5.5", input: [{ role: "user", content: "hi" }] });
    const deltas: string[] = [];
    runner.on("response.output_text.delta", (e) => deltas.push(e.delta));
    const final = await runner.finalResponse();
    expect(final.output_text).toBe("Final answer text.");
    expect(deltas.join("")).toBe("Final answer text.");
  });

  it("strips parameters the backend rejects and turns system items into developer items", async () => {
    backend.enqueue({ kind: "text", text: "ok" });
    const response = await client.responses.create({
      model: "gpt-5.5",
      input: [
        { role: "system", content: "Be terse." },
        { role: "user", content: "hi" },
      ],
      temperature: 0.2,
      top_p: 0.9,
      max_output_tokens: 100,
      user: "someone",
      truncation: "auto",
      metadata: { a: "b" },
    });
    expect(response.output_text).toBe("ok");
    const body = lastResponsesRequest().body;
    for (const field of ["temperature", "top_p", "max_output_tokens", "user", "truncation", "metadata"])
      expect(body).not.toHaveProperty(field);
    expect(body.input[0]).toMatchObject({
      type: "message",
      role: "developer",
      content: [{ type: "input_text", text: "Be terse." }],
    });
  });

  it("accepts a Codex-CLI-shaped request: developer items, no instructions, tools, reasoning, include, prompt_cache_key", async () => {
    backend.enqueue({ kind: "tool_calls", calls: [{ name: "shell", arguments: '{"command":["ls"]}' }] });
    const res = await fetch(`${proxy.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({
        model: "gpt-5.5",
        input: [
          { type: "message", role: "developer", content: [{ type: "input_text", text: "<permissions instructions>" }] },
          { type: "message", role: "user", content: [{ type: "input_text", text: "list files" }] },
        ],
        tools: [
          {
            type: "function",
            name: "shell",
            description: "Runs a command",
            strict: false,
            parameters: {
              type: "object",
              properties: { command: { type: "array", items: { type: "string" } } },
              required: ["command"],
            },
          },
        ],
        tool_choice: "auto",
        parallel_tool_calls: false,
        reasoning: { effort: "high", summary: "auto" },
        store: false,
        stream: true,
        include: ["reasoning.encrypted_content"],
        prompt_cache_key: "0190a8f2-6b1c-7d3e-9f4a-2b5c8d1e0f37",
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    expect(text).toContain("response.function_call_arguments.delta");
    const completed = text.split("\n\n").find((frame) => frame.startsWith("event: response.completed"));
    expect(completed).toBeDefined();
    const data = JSON.parse(completed!.split("\ndata: ")[1]!);
    expect(data.response.output.find((i: { type: string }) => i.type === "function_call")).toMatchObject({
      name: "shell",
      arguments: '{"command":["ls"]}',
    });

    const sent = lastResponsesRequest();
    expect(sent.body.instructions).toBe("");
    expect(sent.body.prompt_cache_key).toBe("0190a8f2-6b1c-7d3e-9f4a-2b5c8d1e0f37");
    expect(sent.headers["session-id"]).toBe("0190a8f2-6b1c-7d3e-9f4a-2b5c8d1e0f37");
    expect(sent.body.include).toEqual(["reasoning.encrypted_content"]);
  });

  it("works with the Vercel AI SDK's Responses model, streaming and not", async () => {
    const openai = createOpenAI({ baseURL: proxy.baseURL, apiKey: "unused" });
    backend.enqueue({ kind: "text", text: "Hello from the AI SDK." });
    const generated = await generateText({ model: openai.responses("gpt-5.5"), prompt: "hi", maxRetries: 0 });
    expect(generated.text).toBe("Hello from the AI SDK.");

    backend.enqueue({ kind: "text", text: "Streaming through the AI SDK.", deltaCount: 4 });
    const streamed = streamText({
      model: openai.responses("gpt-5.5"),
      system: "Be nice.",
      prompt: "hi",
      maxRetries: 0,
    });
    let text = "";
    for await (const part of streamed.textStream) text += part;
    expect(text).toBe("Streaming through the AI SDK.");
    const sent = lastResponsesRequest().body;
    expect(JSON.stringify(sent.input)).not.toContain('"role":"system"');
  });

  it("turns an in-stream context_length_exceeded before any output into a 400", async () => {
    backend.enqueue({
      kind: "failed",
      code: "context_length_exceeded",
      message: "Your input exceeds the context window of this model.",
    });
    const error = await client.responses
      .create({ model: "gpt-5.5", input: "x", stream: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("context_length_exceeded");
  });

  it("reports a stream cut short as an error, never as a finished answer", async () => {
    backend.enqueue({ kind: "cut", afterDeltas: 2, text: "partial answer that never ends" });
    const stream = await client.responses.create({ model: "gpt-5.5", input: "x", stream: true });
    const failure = await (async () => {
      for await (const event of stream) {
        if (event.type === "response.completed") return "completed";
      }
      return "ended";
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe("stream_incomplete");
    await expect
      .poll(() =>
        proxy.logs.some((l) => l.includes("stream ended with an error") && l.includes("code=stream_incomplete")),
      )
      .toBe(true);

    backend.enqueue({ kind: "cut", afterDeltas: 2, text: "partial answer that never ends" });
    const res = await fetch(`${proxy.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", input: "x" }),
    });
    expect(res.status).toBe(502);
    expect((await res.json()).error.code).toBe("stream_incomplete");
  });

  it("passes the backend's explanation through for an unknown model", async () => {
    const res = await fetch(`${proxy.baseURL}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4-turbo", input: "x" }),
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.message).toContain("gpt-4-turbo");
  });

  it("rejects bad input with 4xx errors in the OpenAI shape", async () => {
    const post = (body: string) =>
      fetch(`${proxy.baseURL}/responses`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const malformed = await post("{not json");
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
    const wrongInput = await post(JSON.stringify({ input: 42 }));
    expect(wrongInput.status).toBe(400);
    expect((await wrongInput.json()).error.param).toBe("input");
    const array = await post("[]");
    expect(array.status).toBe(400);
  });
});

describe("GET /v1/models, /health and unknown routes", () => {
  it("lists the live catalogue's listed models in the OpenAI shape", async () => {
    // A fresh proxy, so that its first catalogue fetch happens inside this test.
    const fresh = await startTestProxy({ codexBaseUrl: backend.url });
    const list = await new OpenAI({ baseURL: fresh.baseURL, apiKey: "unused" }).models.list();
    await fresh.close(100);
    const ids = list.data.map((m) => m.id);
    expect(ids).toContain("gpt-5.5");
    expect(ids).not.toContain("codex-auto-review");
    for (const model of list.data) {
      expect(model.object).toBe("model");
      expect(typeof model.created).toBe("number");
      expect(model.owned_by).toBe("openai");
    }
    const catalogueCall = backend.requests.find((r) => r.path.endsWith("/models"));
    expect(catalogueCall?.query.get("client_version")).toMatch(/^0\.(1[4-9]\d|[2-9]\d\d)\.\d+$/);
  });

  it("retrieves one model and 404s an unknown one", async () => {
    expect((await client.models.retrieve("gpt-5.5")).id).toBe("gpt-5.5");
    const res = await fetch(`${proxy.baseURL}/models/no-such-model`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("model_not_found");
  });

  it("answers /health without secrets", async () => {
    const res = await fetch(`${proxy.url}/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: "ok", hasCredentials: true });
    expect(typeof body.version).toBe("string");
    expect(JSON.stringify(body)).not.toContain("test-access-token");
  });

  it("answers unknown routes with a 404 in the OpenAI shape", async () => {
    const res = await fetch(`${proxy.url}/v1/nope`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.type).toBe("not_found_error");
  });

  it("logs one line per request with method, path, status and model, and never a token", async () => {
    backend.enqueue({ kind: "text", text: "logged" });
    await client.responses.create({ model: "gpt-5.5", input: "hi" });
    const line = proxy.logs.find((l) => l.includes("/v1/responses") && l.includes("status=200"));
    expect(line).toContain("method=POST");
    expect(line).toContain("model=gpt-5.5");
    expect(proxy.logs.join("\n")).not.toContain("test-access-token");
  });
});
