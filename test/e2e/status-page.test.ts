/**
 * The owner's status page in a real headless browser (Debian's chromium):
 * it renders every account with its state and usage bars, it shows a request
 * after it was made, it holds no data or secret itself, and its data route
 * follows the API's access rules. Skipped, saying why, on a machine without
 * chromium.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { dumpDom, findChromium } from "../helpers/browser.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

const chromium = findChromium();
if (!chromium) console.warn("status page browser tests skipped: no chromium (apt-get install -y chromium)");

let backend: FakeCodexBackend;
let proxy: TestProxy | undefined;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
});
afterAll(async () => {
  await backend?.close();
});
afterEach(async () => {
  await proxy?.close(100);
  proxy = undefined;
  backend.reset();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The text of the element with `data-account="name"` in a dumped DOM. */
function accountCard(dom: string, name: string): string {
  const start = dom.indexOf(`data-account="${name}"`);
  if (start === -1) return "";
  const end = dom.indexOf('<div class="account"', start + 1);
  return dom.slice(start, end === -1 ? undefined : end);
}

async function chat(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] }),
  });
}

describe.skipIf(!chromium)("status page in a headless browser", () => {
  it("renders every account with its state and usage bars, and updates after a request", async () => {
    proxy = await startTestProxy({
      codexBaseUrl: backend.url,
      accounts: ["personal", "work"],
      env: { POOL_STRATEGY: "fill-first" },
    });
    backend.setAccountRateLimits("acct_work", {
      "x-codex-primary-used-percent": "42",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-after-seconds": "3600",
    });

    const before = await dumpDom(`${proxy.url}/`);
    expect(before).toContain('data-account="personal"');
    expect(before).toContain('data-account="work"');
    expect(before).toContain("2 of 2 accounts ready");
    expect(before).not.toContain("/v1/chat/completions");

    // personal reaches its limit: the request is served by work, and personal cools down.
    backend.limitAccount("acct_personal", { resetsAt: nowSeconds() + 3600 });
    expect((await chat(proxy.url)).status).toBe(200);
    backend.liftLimit("acct_personal");

    const after = await dumpDom(`${proxy.url}/`);
    expect(after).toContain("1 of 2 accounts ready");
    expect(accountCard(after, "personal")).toContain("cooling down");
    expect(accountCard(after, "work")).toContain("ready");
    // work's usage, seen on its answer, as a bar.
    expect(accountCard(after, "work")).toContain("5-hour");
    expect(accountCard(after, "work")).toContain("42% used");
    expect(accountCard(after, "work")).toMatch(/class="fill" style="width: 42%;?"/);
    // The last requests: the chat request, served by work, 200.
    const recent = after.slice(after.indexOf('id="recent"'));
    expect(recent).toMatch(
      /<td>POST<\/td><td>\/v1\/chat\/completions<\/td><td>gpt-5\.5<\/td><td>work<\/td><td>200<\/td>/,
    );
  });

  it("asks for the key, and shows no data, when the proxy has PROXY_API_KEY", async () => {
    proxy = await startTestProxy({
      codexBaseUrl: backend.url,
      accounts: ["personal", "work"],
      env: { PROXY_API_KEY: "page-test-key" },
    });
    const dom = await dumpDom(`${proxy.url}/`);
    expect(dom).toContain("Enter the key to see the status.");
    expect(dom).not.toContain('data-account="personal"');
    expect(dom).toMatch(/<form id="key-form"(?![^>]*hidden)/);
  });
});

describe("status page over HTTP", () => {
  it("serves a static shell with a strict CSP, no data and no secret", async () => {
    proxy = await startTestProxy({
      codexBaseUrl: backend.url,
      accounts: ["personal", "work"],
      env: { PROXY_API_KEY: "page-test-key" },
    });
    const page = await fetch(`${proxy.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("cache-control")).toBe("no-store");
    const html = await page.text();
    expect(html).not.toContain("personal");
    expect(html).not.toContain("page-test-key");
    expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    const script = await fetch(`${proxy.url}/status-page.js`);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await script.text()).toContain("/v1/pool");

    // The data route is guarded like every /v1 route.
    expect((await fetch(`${proxy.url}/v1/pool`)).status).toBe(401);
    const withKey = await fetch(`${proxy.url}/v1/pool`, { headers: { authorization: "Bearer page-test-key" } });
    expect(withKey.status).toBe(200);
    expect(((await withKey.json()) as { accounts: unknown[] }).accounts).toHaveLength(2);
  });

  it("answers a foreign Host (DNS rebinding) with 421 when the proxy has no key", async () => {
    proxy = await startTestProxy({ codexBaseUrl: backend.url, accounts: ["personal"] });
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${proxy!.url}/`);
      const req = request(
        { host: url.hostname, port: url.port, path: "/v1/pool", headers: { host: "evil.example" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(421);
  });
});
