/**
 * Backpressure through real HTTP: a client that stops reading holds the
 * upstream stream back, and nothing is lost once it reads again. Its own file:
 * the 40 MB streams are the suite's heaviest CPU work, and run beside the rest.
 */
import http from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeCodexBackend, type FakeCodexBackend } from "../fake/codex-backend.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";
import { chatStreamText } from "../helpers/sse.js";

let backend: FakeCodexBackend;
let proxy: TestProxy;

beforeAll(async () => {
  backend = await startFakeCodexBackend();
  // The default upstream timeouts: building and relaying 40 MB may take a while on a busy machine.
  proxy = await startTestProxy({ codexBaseUrl: backend.url });
});
afterAll(async () => {
  await proxy?.close(100);
  await backend?.close();
});
beforeEach(() => backend.reset());

describe("backpressure", () => {
  /** Reads the first chunk, stalls for `stallMs`, then reads the rest; resolves with the status and whole body. */
  function stallingRead(
    path: string,
    body: unknown,
    stallMs: number,
    duringStall: () => void,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = http.request(
        `${proxy.baseURL}${path}`,
        {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.once("data", (first: Buffer) => {
            chunks.push(first);
            res.pause();
            setTimeout(() => {
              duringStall();
              res.on("data", (chunk: Buffer) => chunks.push(chunk));
              res.resume();
            }, stallMs);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  it.each(["/responses", "/chat/completions"])(
    "a stalled client holds the upstream back on %s instead of the proxy buffering the answer",
    async (path) => {
      // About 40 MB of events: far more than the sockets buffer while the client stalls (about 10 MB here).
      const deltaCount = 200_000;
      const text = Array.from({ length: deltaCount }, (_, i) => `w${i % 10} `).join("");
      backend.enqueue({ kind: "text", text, deltaCount });
      let openDuringStall = -1;
      const body =
        path === "/responses"
          ? { input: "big", stream: true }
          : { messages: [{ role: "user", content: "big" }], stream: true };
      // The stall's length only sets how sensitive the check is: a proxy that holds the upstream back keeps
      // the stream open however long the client stalls, whatever the speed of the machine.
      const { status, text: received } = await stallingRead(
        path,
        body,
        1000,
        () => (openDuringStall = backend.openStreams()),
      );
      expect(status, received.slice(0, 500)).toBe(200);
      // Had the proxy read on while its client did not, the backend would have finished long before.
      expect(openDuringStall).toBe(1);
      // And nothing was lost once the client read again.
      if (path === "/responses") {
        expect(received.match(/event: response\.output_text\.delta/g)?.length).toBe(deltaCount);
        expect(received).toContain("event: response.completed");
      } else {
        expect(chatStreamText(received)).toBe(text);
        expect(received.trimEnd().endsWith("data: [DONE]")).toBe(true);
      }
    },
    60_000,
  );
});
