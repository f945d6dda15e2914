/**
 * /v1/images/generations and /v1/images/edits through the real server,
 * driven by the openai SDK, against a fake backend whose image calls take a
 * while (the real ones take 60–120 s), with a connect timeout shorter than
 * that: image calls must wait longer than ordinary ones.
 */
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { FAKE_PNG_BASE64 } from "../fake/codex-parity.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let backend: FakeCodexBackend;
let proxy: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  backend = await startFakeCodexBackend({ imageDelayMs: 1500 });
  proxy = await startTestProxy({ codexBaseUrl: backend.url, env: { UPSTREAM_CONNECT_TIMEOUT_MS: "500" } });
  client = new OpenAI({ baseURL: proxy.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await proxy?.close(100);
  await backend?.close();
});
beforeEach(() => backend.reset());

const lastImageRequest = () => backend.requests.filter((r) => r.path.includes("/images/")).at(-1)!;
const png = Buffer.from(FAKE_PNG_BASE64, "base64");

describe("images", () => {
  it("generates with the openai SDK's images.generate, waiting for a slow backend", async () => {
    const result = await client.images.generate({
      model: "gpt-image-2",
      prompt: "A lighthouse at dusk",
      size: "1024x1024",
      quality: "high",
      background: "transparent",
      n: 2,
    });
    expect(result.data).toHaveLength(2);
    expect(result.data?.[0]?.b64_json).toBe(FAKE_PNG_BASE64);
    expect(result.created).toEqual(expect.any(Number));
    expect(result.usage?.total_tokens).toBeGreaterThan(0);
    const sent = lastImageRequest();
    expect(sent.path).toBe("/backend-api/codex/images/generations");
    expect(sent.body).toEqual({
      prompt: "A lighthouse at dusk",
      model: "gpt-image-2",
      size: "1024x1024",
      quality: "high",
      background: "transparent",
      n: 2,
    });
    expect(sent.headers.authorization).toBe("Bearer test-access-token");
  }, 30_000);

  it("edits with the openai SDK's images.edit (multipart), sending the images as data URLs", async () => {
    const result = await client.images.edit({
      image: [await toFile(png, "a.png", { type: "image/png" }), await toFile(png, "b.png", { type: "image/png" })],
      prompt: "Add a red hat",
    });
    expect(result.data?.[0]?.b64_json).toBe(FAKE_PNG_BASE64);
    const sent = lastImageRequest();
    expect(sent.path).toBe("/backend-api/codex/images/edits");
    expect(sent.body.prompt).toBe("Add a red hat");
    expect(sent.body.model).toBe("gpt-image-2");
    expect(sent.body.images).toEqual([
      { image_url: `data:image/png;base64,${FAKE_PNG_BASE64}` },
      { image_url: `data:image/png;base64,${FAKE_PNG_BASE64}` },
    ]);
  }, 30_000);

  it("takes a JSON edit in the backend's own shape", async () => {
    const res = await fetch(`${proxy.baseURL}/images/edits`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "Sharper", images: [{ image_url: `data:image/png;base64,${FAKE_PNG_BASE64}` }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(1);
  }, 30_000);

  it("answers clear 400s for a missing prompt, a mask, and URL output", async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${proxy.baseURL}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const missing = await post("/images/generations", { model: "gpt-image-2" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe("prompt");
    const url = await post("/images/generations", { prompt: "x", response_format: "url" });
    expect(((await url.json()) as { error: { param: string } }).error.param).toBe("response_format");
    const mask = await post("/images/edits", {
      prompt: "x",
      image: `data:image/png;base64,${FAKE_PNG_BASE64}`,
      mask: "m",
    });
    expect(((await mask.json()) as { error: { param: string } }).error.param).toBe("mask");
    expect(backend.requests.filter((r) => r.path.includes("/images/"))).toHaveLength(0);
  });
});
