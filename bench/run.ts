/**
 * npm run bench: the proxy's overhead against a direct connection to the same
 * fake backend, measured side by side in one run (issue 7), plus the load
 * checks of issue 6. Prints a table and writes JSON to bench/results/.
 *
 * Four processes: the fake backend, the proxy (`codex-proxy serve`, the
 * built CLI a user runs), the floor (bench/pipe-proxy.ts: a byte pipe, the
 * least any Node proxy costs) and this load generator. With two or more CPUs
 * the proxies get CPU 1 and the backend and load generator CPU 0, so that the
 * proxy's work does not slow the backend it is compared with. A second,
 * fresh proxy and floor then hold 1,000 open streams each: memory per
 * stream, and concurrency 1 once more in that state.
 * Knobs (env): BENCH_DELTAS (2000), BENCH_QUICK=1 (fewer rounds),
 * BENCH_PROFILE=1 (proxy --cpu-prof), BENCH_PIN=0 (no CPU pinning).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEventData, UpstreamEventReader, type RawEvent } from "../src/codex/sse.js";
import type { UpstreamEvent } from "../src/codex/events.js";
import { ChatStreamTranslator } from "../src/translate/chat-response.js";
import { AnthropicRelay } from "../src/server/routes/anthropic-messages.js";
import { ChatRelay } from "../src/server/routes/chat-completions.js";
import { AnthropicStreamTranslator } from "../src/translate/anthropic/response.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const DELTAS = Number(process.env.BENCH_DELTAS ?? 2000);
const QUICK = process.env.BENCH_QUICK === "1";
const PROFILE = process.env.BENCH_PROFILE === "1";
const HOLD_STREAMS = Number(process.env.BENCH_HOLD_STREAMS ?? 1000);
const PIN = process.env.BENCH_PIN !== "0" && os.cpus().length >= 2;
const FLOOR = "floor (node:http pipe)";
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? (QUICK ? 2000 : 10_000));

// ---------- processes ----------

/** Pins a process (all its threads) to one CPU; false where taskset is missing. */
function pin(pid: number, cpu: number): boolean {
  try {
    execFileSync("taskset", ["-a", "-cp", String(cpu), String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function firstLine(child: ChildProcess, match: (line: string) => boolean, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start in time`)), 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split("\n")) {
        if (match(line)) {
          clearTimeout(timer);
          resolve(line);
          return;
        }
      }
    });
    child.once("exit", (code) => reject(new Error(`${what} exited early (${code})`)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function fakeJwt(): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const exp = Math.floor(Date.now() / 1000) + 10 * 24 * 3600;
  return `${b64({ alg: "none" })}.${b64({ exp, "https://api.openai.com/auth": { chatgpt_account_id: "acct_bench" } })}.sig`;
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/**
 * CPU time a process has used, in ms, summed over its threads (main, GC,
 * libuv): schedstat counts nanoseconds, where /proc/<pid>/stat counts 10 ms
 * ticks, too coarse for one 3 ms answer.
 */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e6;
}

// ---------- HTTP client ----------

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

interface Sample {
  ttfb: number;
  total: number;
  bytes: number;
  ok: boolean;
}

function streamRequest(
  url: URL,
  body: string,
  headers: Record<string, string>,
  onFirstByte?: () => void,
): Promise<Sample> {
  return new Promise((resolve) => {
    const start = performance.now();
    let ttfb = 0;
    let bytes = 0;
    const req = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers },
      },
      (res) => {
        res.on("data", (chunk: Buffer) => {
          if (bytes === 0) {
            ttfb = performance.now() - start;
            onFirstByte?.();
          }
          bytes += chunk.length;
        });
        res.on("end", () =>
          resolve({ ttfb, total: performance.now() - start, bytes, ok: res.statusCode === 200 && bytes > 0 }),
        );
        res.on("error", () => resolve({ ttfb, total: performance.now() - start, bytes, ok: false }));
      },
    );
    req.on("error", () => resolve({ ttfb, total: performance.now() - start, bytes, ok: false }));
    req.end(body);
  });
}

interface Target {
  name: string;
  url: URL;
  body: (text: string) => string;
  headers: Record<string, string>;
}

// ---------- statistics ----------

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

interface Series {
  ttfbP50: number;
  ttfbP99: number;
  totalP50: number;
  totalP99: number;
  wallMs: number;
  requests: number;
  errors: number;
  deltasPerSecond: number;
}

async function runBatch(
  target: Target,
  concurrency: number,
  rounds: number,
  text: string,
): Promise<{ samples: Sample[]; wallMs: number }> {
  const samples: Sample[] = [];
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    samples.push(
      ...(await Promise.all(
        Array.from({ length: concurrency }, () => streamRequest(target.url, target.body(text), target.headers)),
      )),
    );
  }
  return { samples, wallMs: performance.now() - started };
}

function summarise(samples: Sample[], wallMs: number, deltas: number): Series {
  const ok = samples.filter((s) => s.ok);
  return {
    ttfbP50: round(
      percentile(
        ok.map((s) => s.ttfb),
        50,
      ),
      3,
    ),
    ttfbP99: round(
      percentile(
        ok.map((s) => s.ttfb),
        99,
      ),
      3,
    ),
    totalP50: round(
      percentile(
        ok.map((s) => s.total),
        50,
      ),
    ),
    totalP99: round(
      percentile(
        ok.map((s) => s.total),
        99,
      ),
    ),
    wallMs: round(wallMs),
    requests: samples.length,
    errors: samples.length - ok.length,
    deltasPerSecond: Math.round((ok.length * deltas) / (wallMs / 1000)),
  };
}

// ---------- translation CPU (in process) ----------

async function translationCost(
  directUrl: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{
  parseAndTranslateUs: number;
  translateOnlyUs: number;
  chatRelayUs: number;
  anthropicRelayUs: number;
  events: number;
}> {
  const response = await fetch(directUrl, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const reader = new UpstreamEventReader(response.body!, 60_000);
  const raws: RawEvent[] = [];
  for (let raw = await reader.next(); raw; raw = await reader.next()) raws.push(raw);
  const iterations = QUICK ? 20 : 100;
  const options = {
    id: "chatcmpl-bench",
    created: 0,
    model: "gpt-5.5",
    includeUsage: true,
    reasoningOutput: "reasoning_content" as const,
    toolNames: new Map<string, string>(),
  };

  const parsed: UpstreamEvent[] = raws.map((raw) => parseEventData(raw)!).filter(Boolean);
  // Warm up the JIT before measuring.
  for (let i = 0; i < 5; i++) {
    const t = new ChatStreamTranslator(options);
    for (const raw of raws) t.push(parseEventData(raw)!);
  }
  let cpu = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const t = new ChatStreamTranslator(options);
    for (const raw of raws) t.push(parseEventData(raw)!);
  }
  let used = process.cpuUsage(cpu);
  const parseAndTranslateUs = (used.user + used.system) / (iterations * raws.length);

  cpu = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const t = new ChatStreamTranslator(options);
    // Events are re-parsed per iteration above; here the same parsed objects are reused.
    for (const event of parsed) t.push(event);
  }
  used = process.cpuUsage(cpu);
  const translateOnlyUs = round((used.user + used.system) / (iterations * parsed.length), 3);

  // The routes' relays as they run (raw events in, fast paths for the deltas): chat against Anthropic.
  const relayUs = (make: () => { onEvent: (raw: RawEvent) => string }) => {
    for (let i = 0; i < 5; i++) {
      const relay = make();
      for (const raw of raws) relay.onEvent(raw);
    }
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) {
      const relay = make();
      for (const raw of raws) relay.onEvent(raw);
    }
    const spent = process.cpuUsage(start);
    return round((spent.user + spent.system) / (iterations * raws.length), 3);
  };
  const chatRelayUs = relayUs(() => new ChatRelay(new ChatStreamTranslator(options)));
  const anthropicRelayUs = relayUs(
    () =>
      new AnthropicRelay(
        new AnthropicStreamTranslator({
          id: "msg_bench",
          model: "claude-sonnet-4-5",
          thinking: true,
          toolNames: new Map(),
        }),
      ),
  );
  return {
    parseAndTranslateUs: round(parseAndTranslateUs, 3),
    translateOnlyUs,
    chatRelayUs,
    anthropicRelayUs,
    events: raws.length,
  };
}

// ---------- main ----------

async function main(): Promise<void> {
  const fake = spawn(process.execPath, ["--import", "tsx", "bench/fake-server.ts"], {
    cwd: root,
    env: { ...process.env, BENCH_DELTAS: String(DELTAS) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(fake);
  const fakeUrl = JSON.parse(await firstLine(fake, (l) => l.startsWith("{"), "fake backend")).url as string;

  const startFloor = async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/pipe-proxy.ts", fakeUrl], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    const url = JSON.parse(await firstLine(child, (l) => l.startsWith("{"), "pipe proxy")).url as string;
    return { child, url };
  };
  const { child: floor, url: floorUrl } = await startFloor();

  // A stored login, as a user has after `codex-proxy login`: the credential file is on every request's path.
  const home = mkdtempSync(path.join(os.tmpdir(), "codex-proxy-bench-"));
  execFileSync(
    process.execPath,
    ["bin/codex-proxy.mjs", "login", "--access-token", fakeJwt(), "--refresh-token", "rt_bench_refresh_token"],
    {
      cwd: root,
      env: { ...process.env, CODEX_PROXY_HOME: home },
      stdio: "ignore",
    },
  );

  const startProxy = async () => {
    const port = await freePort();
    const args = [
      ...(PROFILE ? ["--cpu-prof", "--cpu-prof-dir", "bench/results/profiles"] : []),
      "bin/codex-proxy.mjs",
      "serve",
      "--port",
      String(port),
    ];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, CODEX_BASE_URL: fakeUrl, LOG_LEVEL: "warn", ENV: "production", CODEX_PROXY_HOME: home },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    await firstLine(child, (l) => l.includes("listening"), "proxy");
    return { child, base: `http://127.0.0.1:${port}` };
  };
  const { child: proxy, base: proxyBase } = await startProxy();
  // What a `serve` left running holds before its first request: what it loaded at start.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const startRss = { proxy: rssKiB(proxy.pid!), floor: rssKiB(floor.pid!) };
  const pinned = PIN && pin(process.pid, 0) && pin(fake.pid!, 0) && pin(floor.pid!, 1) && pin(proxy.pid!, 1);

  const directHeaders = {
    authorization: `Bearer bench`,
    "chatgpt-account-id": "acct_bench",
    accept: "text/event-stream",
  };
  const userInput = (text: string) => [{ type: "message", role: "user", content: [{ type: "input_text", text }] }];
  const targetsFor = (floorUrl: string, proxyBase: string): Target[] => [
    {
      name: "direct",
      url: new URL(`${fakeUrl}/responses`),
      headers: directHeaders,
      body: (t) =>
        JSON.stringify({ model: "gpt-5.5", instructions: "", input: userInput(t), stream: true, store: false }),
    },
    {
      name: FLOOR,
      url: new URL(floorUrl),
      headers: {},
      body: (t) => JSON.stringify({ model: "gpt-5.5", input: t }),
    },
    {
      name: "proxy /v1/responses",
      url: new URL(`${proxyBase}/v1/responses`),
      headers: {},
      body: (t) => JSON.stringify({ model: "gpt-5.5", input: t, stream: true }),
    },
    {
      name: "proxy /v1/chat/completions",
      url: new URL(`${proxyBase}/v1/chat/completions`),
      headers: {},
      body: (t) => JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: t }], stream: true }),
    },
    {
      // Claude Code's shape, small: a Claude name mapped to gpt-5.5, a system prompt, adaptive thinking.
      name: "proxy /v1/messages",
      url: new URL(`${proxyBase}/v1/messages?beta=true`),
      headers: { "anthropic-version": "2023-06-01" },
      body: (t) =>
        JSON.stringify({
          model: "claude-sonnet-4-5",
          max_tokens: 32000,
          system: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }],
          messages: [{ role: "user", content: [{ type: "text", text: t }] }],
          thinking: { type: "adaptive" },
          output_config: { effort: "medium" },
          stream: true,
        }),
    },
  ];
  const targets = targetsFor(floorUrl, proxyBase);

  const [directTarget, , responsesTarget, chatTarget] = targets as [Target, Target, Target, Target];

  // Warm-up: connections, JIT, the proxy's model catalogue.
  for (const target of targets) await runBatch(target, 8, 3, "bench");

  const levels = [
    { concurrency: 1, rounds: QUICK ? 30 : 120 },
    { concurrency: 32, rounds: QUICK ? 3 : 8 },
    { concurrency: 256, rounds: QUICK ? 1 : 3 },
  ];
  const results: Record<string, Record<string, Series>> = {};
  // CPU of the process that serves each target (the floor, or the proxy), per answer.
  const serversOf =
    (proxyPid: number, floorPid: number) =>
    (target: Target): number | undefined =>
      target.name.startsWith("proxy") ? proxyPid : target.name.startsWith("floor") ? floorPid : undefined;
  const cpuPerAnswerMs: Record<string, Record<string, number>> = {};
  /** Proxy CPU and upstream events, for the CPU per event of a set of levels. */
  const proxyCpu = { ms: 0, events: 0 };
  const measureLevel = async (
    key: string,
    level: { concurrency: number; rounds: number },
    totals: Map<string, { ms: number; answers: number }>,
    targets: Target[],
    serverOf: (target: Target) => number | undefined,
  ) => {
    const collected = new Map<string, { samples: Sample[]; wallMs: number }>();
    const levelCpu = new Map<string, { ms: number; answers: number }>();
    // Interleave targets round by round so drift on a shared machine hits all alike.
    for (let r = 0; r < level.rounds; r++) {
      for (const target of targets) {
        const server = serverOf(target);
        const before = server ? cpuMs(server) : 0;
        const batch = await runBatch(target, level.concurrency, 1, "bench");
        if (server) {
          const used = cpuMs(server) - before;
          for (const sums of [levelCpu, totals]) {
            const entry = sums.get(target.name) ?? { ms: 0, answers: 0 };
            entry.ms += used;
            entry.answers += batch.samples.length;
            sums.set(target.name, entry);
          }
          if (target.name.startsWith("proxy")) {
            proxyCpu.ms += used;
            proxyCpu.events += batch.samples.length * (DELTAS + 12);
          }
        }
        const entry = collected.get(target.name) ?? { samples: [], wallMs: 0 };
        entry.samples.push(...batch.samples);
        entry.wallMs += batch.wallMs;
        collected.set(target.name, entry);
      }
    }
    results[key] = Object.fromEntries(
      [...collected].map(([name, c]) => [name, summarise(c.samples, c.wallMs, DELTAS)]),
    );
    cpuPerAnswerMs[key] = Object.fromEntries([...levelCpu].map(([name, c]) => [name, round(c.ms / c.answers, 3)]));
  };
  const cpuTotals = new Map<string, { ms: number; answers: number }>();
  for (const level of levels)
    await measureLevel(`c${level.concurrency}`, level, cpuTotals, targets, serversOf(proxy.pid!, floor.pid!));
  const proxyCpuPerUpstreamEventUs = round((proxyCpu.ms * 1000) / Math.max(1, proxyCpu.events), 3);
  cpuPerAnswerMs.all = Object.fromEntries([...cpuTotals].map(([name, c]) => [name, round(c.ms / c.answers, 3)]));
  const floorCpu = cpuPerAnswerMs.all[FLOOR]!;
  const cpuPerAnswer = {
    ms: cpuPerAnswerMs,
    /** All levels together (not the one after held streams), proxy over floor. */
    vsFloor: Object.fromEntries(
      Object.entries(cpuPerAnswerMs.all)
        .filter(([name]) => name !== FLOOR)
        .map(([name, ms]) => [name, round(ms / floorCpu, 2)]),
    ),
  };

  // Then a fresh proxy and a fresh floor, warmed up like the first ones, each hold 1,000 open
  // streams (HOLD streams stay open for a few seconds each): the proxy's memory per open stream,
  // then concurrency 1 again. A proxy that has just held that many streams spends more CPU per
  // answer for a while (README, Performance), so this row stands apart from the levels above.
  const [held1, held2] = await Promise.all([startProxy(), startFloor()]);
  const heldProxy = held1.child;
  const heldFloor = held2.child;
  if (PIN) {
    pin(heldProxy.pid!, 1);
    pin(heldFloor.pid!, 1);
  }
  const heldTargets = targetsFor(held2.url, held1.base);
  for (const target of heldTargets) await runBatch(target, 8, 3, "bench");
  const [, heldFloorTarget, , heldChatTarget] = heldTargets as [Target, Target, Target, Target];
  const idleRss = rssKiB(heldProxy.pid!);
  let opened = 0;
  let allOpen: () => void = () => {};
  const allOpenPromise = new Promise<void>((resolve) => (allOpen = resolve));
  const held = Array.from({ length: HOLD_STREAMS }, () =>
    streamRequest(heldChatTarget.url, heldChatTarget.body("HOLD"), {}, () => {
      if (++opened === HOLD_STREAMS) allOpen();
    }),
  );
  const floorHeld = Array.from({ length: HOLD_STREAMS }, () =>
    streamRequest(heldFloorTarget.url, heldFloorTarget.body("HOLD"), {}),
  );
  await Promise.race([allOpenPromise, new Promise((r) => setTimeout(r, 20_000))]);
  await new Promise((r) => setTimeout(r, 500));
  const openRss = rssKiB(heldProxy.pid!);
  const heldSamples = await Promise.all(held);
  await Promise.all(floorHeld);
  const memory = {
    streams: HOLD_STREAMS,
    opened,
    errors: heldSamples.filter((s) => !s.ok).length,
    idleRssAfterStartMiB: round(startRss.proxy / 1024),
    floorIdleRssAfterStartMiB: round(startRss.floor / 1024),
    idleRssMiB: round(idleRss / 1024),
    openRssMiB: round(openRss / 1024),
    perStreamKiB: round((openRss - idleRss) / HOLD_STREAMS),
  };
  proxyCpu.ms = 0;
  proxyCpu.events = 0;
  await measureLevel(
    "c1-after-held-streams",
    levels[0]!,
    new Map(),
    heldTargets,
    serversOf(heldProxy.pid!, heldFloor.pid!),
  );
  const proxyCpuPerUpstreamEventAfterHeldUs = round((proxyCpu.ms * 1000) / Math.max(1, proxyCpu.events), 3);
  heldProxy.kill("SIGTERM");
  heldFloor.kill("SIGTERM");

  // 1,000 concurrent full streams (issue 6): zero errors.
  const burst = await runBatch(chatTarget, 1000, 1, "DELTAS=200");
  const burstResponses = await runBatch(responsesTarget, 1000, 1, "DELTAS=200");
  const concurrent1000 = {
    chatErrors: burst.samples.filter((s) => !s.ok).length,
    responsesErrors: burstResponses.samples.filter((s) => !s.ok).length,
    chatWallMs: round(burst.wallMs),
    responsesWallMs: round(burstResponses.wallMs),
  };

  // Memory across many sequential requests (issue 6): RSS should stay flat.
  const rssSamples: Array<{ after: number; rssMiB: number }> = [];
  let sequentialErrors = 0;
  for (let i = 1; i <= SEQUENTIAL; i++) {
    const target = i % 2 === 0 ? responsesTarget : chatTarget;
    const sample = await streamRequest(target.url, target.body("DELTAS=20"), {});
    if (!sample.ok) sequentialErrors++;
    if (i % Math.max(1, Math.floor(SEQUENTIAL / 10)) === 0)
      rssSamples.push({ after: i, rssMiB: round(rssKiB(proxy.pid!) / 1024) });
  }

  // Heap after GC across many requests (issue 6: memory flat), in its own process.
  const heap = await new Promise<unknown>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "bench/heap-check.ts", String(SEQUENTIAL)],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1)!)) : reject(new Error(`heap check exited ${code}`)),
    );
  });

  const translation = await translationCost(directTarget.url, directHeaders, directTarget.body("bench"));

  proxy.kill("SIGTERM");
  fake.kill("SIGTERM");
  floor.kill("SIGTERM");
  rmSync(home, { recursive: true, force: true });
  agent.destroy();

  const report = {
    date: new Date().toISOString(),
    pinned,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    deltasPerAnswer: DELTAS,
    quick: QUICK,
    latency: results,
    proxyCpuPerUpstreamEventUs,
    proxyCpuPerUpstreamEventAfterHeldUs,
    cpuPerAnswer,
    translation,
    memory,
    concurrent1000,
    sequential: { requests: SEQUENTIAL, errors: sequentialErrors, rss: rssSamples },
    heap,
  };

  printReport(report);
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  const stamp = report.date.replace(/[:.]/g, "-");
  writeFileSync(new URL(`./results/${stamp}.json`, import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(new URL("./results/latest.json", import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
}

function printReport(report: {
  latency: Record<string, Record<string, Series>>;
  proxyCpuPerUpstreamEventUs: number;
  proxyCpuPerUpstreamEventAfterHeldUs: number;
  cpuPerAnswer: { ms: Record<string, Record<string, number>>; vsFloor: Record<string, number> };
  translation: { parseAndTranslateUs: number; translateOnlyUs: number; chatRelayUs: number; anthropicRelayUs: number };
  memory: {
    perStreamKiB: number;
    streams: number;
    errors: number;
    idleRssMiB: number;
    openRssMiB: number;
    idleRssAfterStartMiB: number;
    floorIdleRssAfterStartMiB: number;
  };
  concurrent1000: { chatErrors: number; responsesErrors: number };
  sequential: { requests: number; errors: number; rss: Array<{ after: number; rssMiB: number }> };
  heap: unknown;
  machine: { cpus: number; model?: string; node: string };
  deltasPerAnswer: number;
  pinned: boolean;
}): void {
  const lines: string[] = [];
  lines.push(
    `machine: ${report.machine.cpus} × ${report.machine.model ?? "cpu"}, Node ${report.machine.node}; ${report.deltasPerAnswer}-delta streamed answers; ${report.pinned ? "proxies on CPU 1, backend and load generator on CPU 0" : "no CPU pinning"}`,
  );
  lines.push("");
  lines.push(
    "| concurrency | path | TTFB p50 (ms) | TTFB p99 | added TTFB p50 | total p50 (ms) | total p99 | total vs direct | total vs floor | deltas/s | errors |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const [level, series] of Object.entries(report.latency)) {
    const direct = series.direct!;
    const floor = series["floor (node:http pipe)"];
    for (const [name, s] of Object.entries(series)) {
      const added = name === "direct" ? "—" : `${round(s.ttfbP50 - direct.ttfbP50, 3)}`;
      const ratio = name === "direct" ? "1.00" : (s.totalP50 / direct.totalP50).toFixed(2);
      const vsFloor = name.startsWith("proxy") && floor ? `${(s.totalP50 / floor.totalP50).toFixed(2)}×` : "—";
      lines.push(
        `| ${level.slice(1)} | ${name} | ${s.ttfbP50} | ${s.ttfbP99} | ${added} | ${s.totalP50} | ${s.totalP99} | ${ratio}× | ${vsFloor} | ${s.deltasPerSecond} | ${s.errors} |`,
      );
    }
  }
  lines.push("");
  lines.push(
    `proxy CPU per upstream event (all routes, whole process): ${report.proxyCpuPerUpstreamEventUs} µs; at concurrency 1 after 1,000 held streams: ${report.proxyCpuPerUpstreamEventAfterHeldUs} µs`,
  );
  lines.push("");
  lines.push("| server CPU per answer (ms) | c1 | c32 | c256 | all | all vs floor | c1 after 1,000 held streams |");
  lines.push("|---|---|---|---|---|---|---|");
  for (const name of Object.keys(report.cpuPerAnswer.ms.all ?? {})) {
    const at = (level: string) => report.cpuPerAnswer.ms[level]?.[name] ?? "—";
    const ratio = report.cpuPerAnswer.vsFloor[name];
    lines.push(
      `| ${name} | ${at("c1")} | ${at("c32")} | ${at("c256")} | ${at("all")} | ${ratio === undefined ? "1.00" : ratio.toFixed(2)}× | ${at("c1-after-held-streams")} |`,
    );
  }
  lines.push("");
  lines.push(
    `chat translation per event: ${report.translation.translateOnlyUs} µs (with JSON.parse: ${report.translation.parseAndTranslateUs} µs)`,
  );
  lines.push(
    `relay per upstream event (fast paths included): chat ${report.translation.chatRelayUs} µs, anthropic ${report.translation.anthropicRelayUs} µs`,
    `idle RSS after start: proxy ${report.memory.idleRssAfterStartMiB} MiB (floor, run under tsx: ${report.memory.floorIdleRssAfterStartMiB} MiB)`,
  );
  lines.push(
    `memory: ${report.memory.streams} open chat streams → ${report.memory.perStreamKiB} KiB each (RSS ${report.memory.idleRssMiB} → ${report.memory.openRssMiB} MiB), errors ${report.memory.errors}`,
  );
  lines.push(
    `1,000 concurrent full streams: chat errors ${report.concurrent1000.chatErrors}, responses errors ${report.concurrent1000.responsesErrors}`,
  );
  lines.push(
    `${report.sequential.requests} sequential requests, errors ${report.sequential.errors}; RSS MiB: ${report.sequential.rss.map((r) => `${r.after}:${r.rssMiB}`).join(" ")}`,
  );
  const heap = report.heap as {
    requests: number;
    errors: number;
    heapAfterGc: Array<{ after: number; heapMiB: number }>;
  };
  lines.push(
    `heap after GC over ${heap.requests} sequential requests (errors ${heap.errors}): ${heap.heapAfterGc.map((h) => `${h.after}:${h.heapMiB} MiB`).join(" ")}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

const children: ChildProcess[] = [];
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
