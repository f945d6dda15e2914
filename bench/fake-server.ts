/**
 * The fake Codex backend as its own process, so that the proxy, the backend
 * and the load generator do not share an event loop. Prints its URL as JSON.
 * A request whose last user text contains HOLD gets a slow stream that stays
 * open (for the memory-per-stream measurement).
 */
import { startFakeCodexBackend, type Scenario } from "../test/fake/codex-backend.js";

const deltas = Number(process.env.BENCH_DELTAS ?? 2000);
const holdMs = Number(process.env.BENCH_HOLD_MS ?? 8000);

function lastUserText(body: unknown): string {
  const input = (body as { input?: Array<{ content?: Array<{ text?: string }> }> })?.input;
  const last = Array.isArray(input) ? input.at(-1) : undefined;
  return last?.content?.map((part) => part.text ?? "").join("") ?? "";
}

function answer(count: number): string {
  // Short words so that each delta is one small event, like a real token stream.
  return Array.from({ length: count }, (_, i) => `w${i % 100} `).join("");
}

const full = answer(deltas);
// The benchmark measures the relay, not auth: any token the proxy sends is fine.
const backend = await startFakeCodexBackend({ port: 0, acceptAnyToken: true });
backend.setDefault((body): Scenario => {
  const text = lastUserText(body);
  if (text.includes("HOLD"))
    return { kind: "slow", text: answer(10), deltaCount: 10, delayMs: Math.round(holdMs / 10) };
  const match = /DELTAS=(\d+)/.exec(text);
  if (match) {
    const n = Number(match[1]);
    return { kind: "text", text: answer(n), deltaCount: n };
  }
  return { kind: "text", text: full, deltaCount: deltas };
});
// The fake records every request; the benchmark sends tens of thousands.
setInterval(() => backend.requests.splice(0), 1000).unref();
process.stdout.write(`${JSON.stringify({ url: backend.url })}\n`);
process.on("SIGTERM", () => void backend.close().then(() => process.exit(0)));
