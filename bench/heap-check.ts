/**
 * Heap after forced GC across many sequential requests, with the proxy and
 * the fake in this one process (run with --expose-gc). RSS alone cannot tell
 * a leak from a lazily grown heap; this can. Prints one JSON line.
 */
import { startFakeCodexBackend } from "../test/fake/codex-backend.js";
import { startTestProxy } from "../test/helpers/proxy.js";

const total = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const backend = await startFakeCodexBackend();
backend.setDefault(() => ({ kind: "text", text: "a b c d e f g h i j k l m n o p q r s t", deltaCount: 20 }));
const proxy = await startTestProxy({ codexBaseUrl: backend.url, env: { LOG_LEVEL: "error" } });

async function run(count: number): Promise<number> {
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const chat = i % 2 === 1;
    const res = await fetch(`${proxy.baseURL}${chat ? "/chat/completions" : "/responses"}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(
        chat ? { messages: [{ role: "user", content: "x" }], stream: true } : { input: "x", stream: true },
      ),
    });
    const text = await res.text();
    if (res.status !== 200 || !text.includes(chat ? "[DONE]" : "response.completed")) errors++;
    // The fake and the test logger keep every request; they are not the proxy.
    if (i % 500 === 0) {
      backend.requests.splice(0);
      proxy.logs.splice(0);
    }
  }
  return errors;
}

async function heapMiB(): Promise<number> {
  backend.requests.splice(0);
  proxy.logs.splice(0);
  gc!();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc!();
  return Math.round((process.memoryUsage().heapUsed / 1048576) * 100) / 100;
}

let errors = await run(500); // warm-up
const samples: Array<{ after: number; heapMiB: number }> = [{ after: 500, heapMiB: await heapMiB() }];
const step = Math.max(500, Math.floor(total / 5));
for (let done = 0; done < total; done += step) {
  errors += await run(step);
  samples.push({ after: 500 + done + step, heapMiB: await heapMiB() });
}
process.stdout.write(`${JSON.stringify({ requests: total, errors, heapAfterGc: samples })}\n`);
await proxy.close(10);
await backend.close();
process.exit(0);
