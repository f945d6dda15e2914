/**
 * What a web page, another machine or a careless client can do to a proxy
 * running with default settings (loopback, no PROXY_API_KEY): cross-site
 * requests, DNS rebinding, bind addresses, deep JSON and huge bodies. All
 * through real HTTP against the fake backend.
 */
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runServe } from "../../src/cli/serve.js";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { FAKE_PNG_BASE64 } from "../fake/codex-parity.js";
import { runCli, tempHome } from "../helpers/cli.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let backend: FakeCodexBackend;
let proxy: TestProxy;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
  proxy = await startTestProxy({ codexBaseUrl: backend.url, env: { MAX_BODY_MB: "1" } });
});
afterAll(async () => {
  await proxy?.close(100);
  await backend?.close();
});
beforeEach(() => backend.reset());

const CHAT_BODY = JSON.stringify({ messages: [{ role: "user", content: "hi" }] });
const RESPONSES_BODY = JSON.stringify({ input: "hi" });

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http, so that Host, Origin and Content-Type are sent exactly as given (or not at all). */
function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? "GET", headers: options.headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** An OpenAI-shaped error with a message worth reading. */
function expectOpenAIError(res: RawResponse, status: number, label: string): { message: string; code: string | null } {
  expect(res.status, `${label} → ${res.status} ${res.body.slice(0, 300)}`).toBe(status);
  const error = JSON.parse(res.body).error;
  expect(typeof error?.message, label).toBe("string");
  expect(error.message.length, label).toBeGreaterThan(10);
  expect(error).toHaveProperty("type");
  expect(error).toHaveProperty("param");
  expect(error).toHaveProperty("code");
  return error;
}

describe("cross-site requests (CSRF)", () => {
  // What a page on any site can send with a form or fetch(..., {mode: "no-cors"}), without a preflight.
  const simpleContentTypes: Array<string | undefined> = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=----x",
    undefined,
    "application/xml",
    "application/jsonx",
    "json",
    "application/json; charset=latin1",
  ];

  it("refuses bodies that are not JSON content types with 415 in the OpenAI shape, and sends nothing upstream", async () => {
    for (const path of ["/chat/completions", "/responses"]) {
      for (const contentType of simpleContentTypes) {
        const res = await rawRequest(`${proxy.baseURL}${path}`, {
          method: "POST",
          headers: contentType === undefined ? {} : { "content-type": contentType },
          body: path === "/responses" ? RESPONSES_BODY : CHAT_BODY,
        });
        const error = expectOpenAIError(res, 415, `${path} ${contentType ?? "(no Content-Type)"}`);
        expect(error.code).toBe("unsupported_media_type");
        expect(error.message).toMatch(/application\/json/);
      }
    }
    expect(backend.requests.filter((r) => r.path.endsWith("/responses"))).toHaveLength(0);
  });

  it("accepts application/json with or without a UTF-8 charset, and application/*+json", async () => {
    for (const contentType of [
      "application/json",
      "application/json; charset=utf-8",
      'Application/JSON;charset="UTF-8"',
      "application/vnd.api+json",
    ]) {
      const res = await rawRequest(`${proxy.baseURL}/chat/completions`, {
        method: "POST",
        headers: { "content-type": contentType },
        body: CHAT_BODY,
      });
      expect(res.status, `${contentType} → ${res.body}`).toBe(200);
      expect(JSON.parse(res.body).choices[0].message.content).toBe("Echo: hi");
    }
  });

  it("refuses a request whose Origin is not in CORS_ORIGINS with 403, preflight included; no Origin is fine", async () => {
    for (const origin of ["https://evil.example", "null", "http://localhost:3000"]) {
      const post = await rawRequest(`${proxy.baseURL}/chat/completions`, {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: CHAT_BODY,
      });
      expect(expectOpenAIError(post, 403, `POST from ${origin}`).message).toMatch(/CORS_ORIGINS/);
      const get = await rawRequest(`${proxy.baseURL}/models`, { headers: { origin } });
      expectOpenAIError(get, 403, `GET from ${origin}`);
      const preflight = await rawRequest(`${proxy.baseURL}/chat/completions`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
      expect(preflight.status, `preflight from ${origin}`).toBe(403);
      expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    }
    expect(backend.requests.filter((r) => r.path.endsWith("/responses"))).toHaveLength(0);
    const sdkLike = await rawRequest(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: CHAT_BODY,
    });
    expect(sdkLike.status).toBe(200);
  });

  it("with CORS_ORIGINS, the listed origin gets a preflight and answers; others still get 403", async () => {
    const withCors = await startTestProxy({ codexBaseUrl: backend.url, env: { CORS_ORIGINS: "https://app.example" } });
    try {
      const preflight = await rawRequest(`${withCors.baseURL}/chat/completions`, {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers["access-control-allow-origin"]).toBe("https://app.example");
      expect(preflight.headers["access-control-allow-headers"]).toMatch(/content-type/);
      const ok = await rawRequest(`${withCors.baseURL}/chat/completions`, {
        method: "POST",
        headers: { origin: "https://app.example", "content-type": "application/json" },
        body: CHAT_BODY,
      });
      expect(ok.status).toBe(200);
      expect(ok.headers["access-control-allow-origin"]).toBe("https://app.example");
      // An allowed origin still cannot send a body that skips the preflight.
      const plain = await rawRequest(`${withCors.baseURL}/chat/completions`, {
        method: "POST",
        headers: { origin: "https://app.example", "content-type": "text/plain" },
        body: CHAT_BODY,
      });
      expect(plain.status).toBe(415);
      const other = await rawRequest(`${withCors.baseURL}/models`, { headers: { origin: "https://evil.example" } });
      expect(other.status).toBe(403);
    } finally {
      await withCors.close(100);
    }
  });
});

describe("the Codex parity routes go through the same guards", () => {
  const NOT_JSON = ["text/plain", "application/x-www-form-urlencoded", undefined];
  const PNG_DATA_URL = `data:image/png;base64,${FAKE_PNG_BASE64}`;
  const sentUpstream = () => backend.requests.filter((r) => r.method === "POST");

  it("compaction and image generation take JSON only; image edits take JSON or multipart/form-data", async () => {
    const jsonOnly = {
      "/responses/compact": JSON.stringify({ model: "gpt-5.5", input: [{ role: "user", content: "hi" }] }),
      "/images/generations": JSON.stringify({ prompt: "a lighthouse" }),
    };
    for (const [path, body] of Object.entries(jsonOnly)) {
      for (const contentType of [...NOT_JSON, "multipart/form-data; boundary=----x"]) {
        const res = await rawRequest(`${proxy.baseURL}${path}`, {
          method: "POST",
          headers: contentType === undefined ? {} : { "content-type": contentType },
          body,
        });
        expect(expectOpenAIError(res, 415, `${path} ${contentType ?? "(none)"}`).code).toBe("unsupported_media_type");
      }
    }
    const editBody = JSON.stringify({ prompt: "Sharper", images: [{ image_url: PNG_DATA_URL }] });
    for (const contentType of NOT_JSON) {
      const res = await rawRequest(`${proxy.baseURL}/images/edits`, {
        method: "POST",
        headers: contentType === undefined ? {} : { "content-type": contentType },
        body: editBody,
      });
      const error = expectOpenAIError(res, 415, `/images/edits ${contentType ?? "(none)"}`);
      expect(error.message).toMatch(/multipart\/form-data/);
    }
    expect(sentUpstream()).toHaveLength(0);

    const json = await rawRequest(`${proxy.baseURL}/images/edits`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: editBody,
    });
    expect(json.status, json.body).toBe(200);
    const form = new FormData();
    form.set("prompt", "Sharper");
    form.set("image", new Blob([Buffer.from(FAKE_PNG_BASE64, "base64")], { type: "image/png" }), "in.png");
    // fetch writes the multipart body and its Content-Type with the boundary.
    const multipart = await fetch(`${proxy.baseURL}/images/edits`, { method: "POST", body: form });
    expect(multipart.status, await multipart.clone().text()).toBe(200);
    expect(sentUpstream().map((r) => r.path)).toEqual([
      "/backend-api/codex/images/edits",
      "/backend-api/codex/images/edits",
    ]);
  }, 30_000);

  it("the new routes and the usage endpoints refuse a foreign Host (421) and a foreign Origin (403)", async () => {
    const routes: Array<[method: string, url: string]> = [
      ["POST", `${proxy.baseURL}/responses/compact`],
      ["POST", `${proxy.baseURL}/images/generations`],
      ["POST", `${proxy.baseURL}/images/edits`],
      ["GET", `${proxy.baseURL}/usage`],
      ["GET", `${proxy.url}/api/codex/usage`],
      ["GET", `${proxy.url}/backend-api/wham/usage`],
      ["GET", `${proxy.baseURL}/models?client_version=0.171.0`],
    ];
    for (const [method, url] of routes) {
      const body = method === "POST" ? JSON.stringify({ prompt: "x" }) : undefined;
      const json: Record<string, string> = method === "POST" ? { "content-type": "application/json" } : {};
      const host = await rawRequest(url, { method, headers: { ...json, host: "evil.example" }, body });
      expect(expectOpenAIError(host, 421, `${method} ${url} Host`).code).toBe("misdirected_request");
      const origin = await rawRequest(url, { method, headers: { ...json, origin: "https://evil.example" }, body });
      expect(expectOpenAIError(origin, 403, `${method} ${url} Origin`).code).toBe("origin_not_allowed");
    }
    expect(sentUpstream()).toHaveLength(0);
  });

  it("with PROXY_API_KEY, the new routes and the usage endpoints need the key (401)", async () => {
    const key = "parity-guard-key-123456";
    const keyed = await startTestProxy({ codexBaseUrl: backend.url, env: { PROXY_API_KEY: key } });
    try {
      const gets = ["/v1/usage", "/api/codex/usage", "/backend-api/wham/usage", "/v1/api/codex/usage"];
      for (const path of gets) {
        expectOpenAIError(await rawRequest(`${keyed.url}${path}`), 401, `GET ${path}`);
        const ok = await rawRequest(`${keyed.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
        expect(ok.status, `GET ${path} with the key → ${ok.body}`).toBe(200);
      }
      for (const path of ["/v1/responses/compact", "/v1/images/generations", "/v1/images/edits"]) {
        const res = await rawRequest(`${keyed.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ prompt: "x" }),
        });
        expectOpenAIError(res, 401, `POST ${path}`);
      }
      expect(sentUpstream()).toHaveLength(0);
    } finally {
      await keyed.close(100);
    }
  });
});

describe("DNS rebinding (Host)", () => {
  const port = () => new URL(proxy.url).port;

  it("without a key, answers only Host names that mean this machine; others get 421 naming ALLOWED_HOSTS", async () => {
    for (const host of [`evil.example:${port()}`, "evil.example", "192.168.1.20", "localhost.evil.example", "[::2]"]) {
      const res = await rawRequest(`${proxy.baseURL}/chat/completions`, {
        method: "POST",
        headers: { host, "content-type": "application/json" },
        body: CHAT_BODY,
      });
      const error = expectOpenAIError(res, 421, `Host: ${host}`);
      expect(error.message).toMatch(/ALLOWED_HOSTS/);
      expect(error.code).toBe("misdirected_request");
      expectOpenAIError(await rawRequest(`${proxy.url}/health`, { headers: { host } }), 421, `health Host: ${host}`);
    }
    expect(backend.requests.filter((r) => r.path.endsWith("/responses"))).toHaveLength(0);
    for (const host of [
      `127.0.0.1:${port()}`,
      `localhost:${port()}`,
      "LOCALHOST",
      "localhost.",
      `[::1]:${port()}`,
      "127.0.0.2",
    ]) {
      const res = await rawRequest(`${proxy.baseURL}/chat/completions`, {
        method: "POST",
        headers: { host, "content-type": "application/json" },
        body: CHAT_BODY,
      });
      expect(res.status, `Host: ${host} → ${res.body}`).toBe(200);
    }
  });

  it("ALLOWED_HOSTS adds names; a key lifts the check", async () => {
    const allowed = await startTestProxy({
      codexBaseUrl: backend.url,
      env: { ALLOWED_HOSTS: "proxy.lan, Box.Local:8080" },
    });
    const keyed = await startTestProxy({ codexBaseUrl: backend.url, env: { PROXY_API_KEY: "host-test-key-123456" } });
    try {
      for (const host of ["proxy.lan:9999", "box.local", "localhost"]) {
        expect((await rawRequest(`${allowed.url}/health`, { headers: { host } })).status, host).toBe(200);
      }
      expect((await rawRequest(`${allowed.url}/health`, { headers: { host: "evil.example" } })).status).toBe(421);
      const withKey = await rawRequest(`${keyed.baseURL}/models`, {
        headers: { host: "proxy.example.com", authorization: "Bearer host-test-key-123456" },
      });
      expect(withKey.status).toBe(200);
      const noKey = await rawRequest(`${keyed.baseURL}/models`, { headers: { host: "proxy.example.com" } });
      expect(noKey.status).toBe(401);
    } finally {
      await allowed.close(100);
      await keyed.close(100);
    }
  });

  it("refuses an ALLOWED_HOSTS entry that is not a host name, saying which", async () => {
    const result = await runCli(["serve", "--port", "0"], {
      CODEX_PROXY_HOME: tempHome(),
      ALLOWED_HOSTS: "proxy.lan,http://evil.example/",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ALLOWED_HOSTS: "http:\/\/evil\.example\/" is not a host name/);
  });
});

describe("bind address", () => {
  const serveEnv = () => ({ CODEX_PROXY_HOME: tempHome(), CODEX_BASE_URL: backend.url, ACCESS_TOKEN: "bind-token" });

  for (const host of ["[::1]", "::1"]) {
    it(`serve --host '${host}' listens on ::1 only, not on every interface`, async () => {
      const server = await runServe({ host, port: 0 }, serveEnv());
      try {
        expect(server.address).toBe("::1");
        expect(server.url).toBe(`http://[::1]:${server.port}`);
        const health = await rawRequest(`${server.url}/health`);
        expect(health.status).toBe(200);
      } finally {
        await server.close(100);
      }
    });
  }

  const refusals: Array<[host: string, env: Record<string, string>, message: RegExp]> = [
    ["bad host!", {}, /"bad host!": it is not a valid host/],
    // TEST-NET-1 (RFC 5737): never an address of this machine; binding fails with no traffic sent.
    ["192.0.2.1", { PROXY_API_KEY: "bind-test-key-123456" }, /192\.0\.2\.1: it is not an address of this machine/],
    [
      "no-such-host.invalid",
      { PROXY_API_KEY: "bind-test-key-123456" },
      /"no-such-host\.invalid": the name does not resolve/,
    ],
  ];
  for (const [host, env, message] of refusals) {
    it(`serve --host '${host}' exits 1 saying why, not "port already in use"`, async () => {
      const result = await runCli(["serve", "--host", host, "--port", "0"], { ...serveEnv(), ...env });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/already in use/);
      expect(result.stdout).not.toMatch(/listening on/);
    });
  }
});

describe("deep JSON", () => {
  /** Written as text: JSON.stringify itself overflows on 5,000 levels, which is the bug. */
  function nestedSchemaJson(levels: number): string {
    return `${'{"type":"object","properties":{"a":'.repeat(levels)}{"type":"string"}${"}}".repeat(levels)}`;
  }
  const DEEP = "__deep_schema__";
  const withDeep = (body: unknown, levels = 5000) =>
    JSON.stringify(body).replace(`"${DEEP}"`, nestedSchemaJson(levels));
  const tool = (parameters: unknown) => ({ type: "function", function: { name: "f", parameters } });
  const cases: Array<[path: string, body: Record<string, unknown>, param: RegExp]> = [
    [
      "/chat/completions",
      { messages: [{ role: "user", content: "x" }], tools: [tool(DEEP)] },
      /^tools\[0\]\.function\.parameters\./,
    ],
    [
      "/chat/completions",
      {
        messages: [{ role: "user", content: "x" }],
        response_format: { type: "json_schema", json_schema: { name: "r", strict: true, schema: DEEP } },
      },
      /^response_format\.json_schema\.schema\./,
    ],
    [
      "/responses",
      { input: "x", tools: [{ type: "function", name: "f", parameters: DEEP }] },
      /^tools\[0\]\.parameters\./,
    ],
    ["/responses", { input: "x", tools: [tool(DEEP)] }, /^tools\[0\]\.function\.parameters\./],
    [
      "/responses",
      { input: "x", text: { format: { type: "json_schema", name: "r", schema: DEEP } } },
      /^text\.format\.schema\./,
    ],
    [
      "/responses",
      { input: [{ role: "user", content: [{ type: "input_text", text: "x", extra: DEEP }] }] },
      /^input\[0\]\.content\[0\]\.extra/,
    ],
  ];

  it("refuses schemas nested 5,000 levels with a 400 naming the field, not a 500", async () => {
    for (const [path, body, param] of cases) {
      const res = await rawRequest(`${proxy.baseURL}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: withDeep(body),
      });
      const error = expectOpenAIError(res, 400, `${path} ${Object.keys(body).join(",")}`);
      expect(error.code).toBe("json_too_deep");
      expect((error as { param?: string }).param).toMatch(param);
      expect(error.message).toMatch(/128 levels/);
    }
    expect(backend.requests.filter((r) => r.path.endsWith("/responses"))).toHaveLength(0);
  });

  it("accepts a schema nested 50 levels", async () => {
    const res = await rawRequest(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: withDeep({ messages: [{ role: "user", content: "x" }], tools: [tool(DEEP)] }, 50),
    });
    expect(res.status, res.body.slice(0, 300)).toBe(200);
  });
});

describe("huge bodies", () => {
  /**
   * A client that writes all of a 40 MB body before it reads anything, as most
   * HTTP libraries do: the 413 must reach it rather than a connection reset.
   */
  function writeAllThenRead(url: string, body: Buffer): Promise<string> {
    const { hostname, port, pathname } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: hostname, port: Number(port) });
      socket.pause(); // read nothing until the whole body is written
      const head =
        `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.byteLength}\r\n\r\n`;
      socket.on("error", (error) => reject(error));
      socket.write(head);
      socket.write(body, () => {
        let received = "";
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => {
          received += chunk;
          if (/\r\n\r\n/.test(received) && received.includes("}}")) {
            socket.destroy();
            resolve(received);
          }
        });
        socket.on("end", () => resolve(received));
        socket.resume();
      });
    });
  }

  it("a client that writes a 40 MB body before reading gets the 413 every time (10 tries)", async () => {
    const body = Buffer.alloc(40 * 1024 * 1024, "x");
    for (let i = 0; i < 10; i++) {
      const answer = await writeAllThenRead(`${proxy.baseURL}/chat/completions`, body);
      expect(answer, `try ${i}`).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toMatch(/MAX_BODY_MB/);
    }
    // The proxy is still fine afterwards.
    const ok = await rawRequest(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: CHAT_BODY,
    });
    expect(ok.status).toBe(200);
  }, 60_000);
});

describe("corpus of hostile requests", () => {
  /** Each a request a browser page, another machine or a broken client could send; all must be a 4xx. */
  function hostileCorpus(
    port: string,
  ): Array<{ label: string; path: string; method?: string; headers: Record<string, string>; body?: string | Buffer }> {
    const json = { "content-type": "application/json" };
    const corpus: Array<{
      label: string;
      path: string;
      method?: string;
      headers: Record<string, string>;
      body?: string | Buffer;
    }> = [];
    for (const path of ["/v1/chat/completions", "/v1/responses"]) {
      const body = path.endsWith("responses") ? RESPONSES_BODY : CHAT_BODY;
      for (const contentType of [
        "text/plain",
        "text/html",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        "application/octet-stream",
        "application/json-patch",
        "application/json; charset=utf-16",
        "image/png",
        "*/*",
        "",
      ]) {
        corpus.push({
          label: `Content-Type "${contentType}"`,
          path,
          method: "POST",
          headers: { "content-type": contentType },
          body,
        });
      }
      for (const origin of [
        "https://evil.example",
        "null",
        "http://127.0.0.1:1",
        "file://",
        `http://localhost:${port}.evil.example`,
      ]) {
        corpus.push({ label: `Origin ${origin}`, path, method: "POST", headers: { ...json, origin }, body });
      }
      for (const host of [
        "evil.example",
        `evil.example:${port}`,
        "127.0.0.1.nip.io",
        "localhost.evil.example",
        "0.0.0.0",
        "[::ffff:7f00:1]",
        "10.0.0.1",
        "attacker",
      ]) {
        corpus.push({ label: `Host ${host}`, path, method: "POST", headers: { ...json, host }, body });
      }
      corpus.push({
        label: "array nested 10,000 levels",
        path,
        method: "POST",
        headers: json,
        body: `{"input":"x","messages":[{"role":"user","content":"x"}],"metadata":${"[".repeat(10_000)}${"]".repeat(10_000)}}`,
      });
      corpus.push({
        label: "object nested 200 levels in a tool schema",
        path,
        method: "POST",
        headers: json,
        body: `{"input":"x","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":${'{"a":'.repeat(200)}1${"}".repeat(200)}}}]}`,
      });
      corpus.push({
        label: "2 MB body",
        path,
        method: "POST",
        headers: json,
        body: Buffer.alloc(2 * 1024 * 1024, " "),
      });
    }
    for (const host of ["evil.example", "rebind.attacker.example:80"]) {
      corpus.push({ label: `GET /v1/models Host ${host}`, path: "/v1/models", headers: { host } });
      corpus.push({ label: `GET /v1/usage Host ${host}`, path: "/v1/usage", headers: { host } });
    }
    corpus.push({
      label: "GET /v1/models from a foreign Origin",
      path: "/v1/models",
      headers: { origin: "https://evil.example" },
    });
    return corpus;
  }

  it("answers 50+ hostile requests with a 4xx in the OpenAI shape, sends none upstream, and still serves a good one", async () => {
    const corpus = hostileCorpus(new URL(proxy.url).port);
    expect(corpus.length).toBeGreaterThanOrEqual(50);
    for (const { label, path, method, headers, body } of corpus) {
      const res = await rawRequest(`${proxy.url}${path}`, { method, headers, body });
      const full = `${method ?? "GET"} ${path} ${label} → ${res.status} ${res.body.slice(0, 200)}`;
      expect(res.status, full).toBeGreaterThanOrEqual(400);
      expect(res.status, full).toBeLessThan(500);
      expect(typeof JSON.parse(res.body).error?.message, full).toBe("string");
    }
    expect(backend.requests.filter((r) => r.path.endsWith("/responses"))).toHaveLength(0);
    const ok = await rawRequest(`${proxy.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: CHAT_BODY,
    });
    expect(ok.status).toBe(200);
  });
});
