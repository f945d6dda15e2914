/**
 * Runs the installed Claude Code (`node_modules/.bin/claude`) non-interactively
 * against a base URL, offline: a temporary HOME and working directory, and
 * every call home turned off.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Scenario } from "../fake/codex-backend.js";
import { tempHome } from "./cli.js";
import { LOOPBACK_ONLY_ENV } from "./loopback-only.js";

const CLAUDE = fileURLToPath(new URL("../../node_modules/.bin/claude", import.meta.url));

export interface ClaudeResult {
  code: number | null;
  /** The temporary HOME it ran with (Claude Code keeps its caches under ~/.claude). */
  home: string;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: Claude Code's --output-format json result, indexed freely
  json: any;
}

export function runClaude(
  prompt: string,
  options: { baseUrl: string; apiKey: string; args?: string[]; env?: Record<string, string>; timeoutMs?: number },
): Promise<ClaudeResult> {
  const home = tempHome("claude-home-");
  const cwd = tempHome("claude-cwd-");
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: options.baseUrl,
    ANTHROPIC_API_KEY: options.apiKey,
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_UPDATES: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_MAX_RETRIES: "0",
    CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK: "1",
    ...LOOPBACK_ONLY_ENV,
    ...options.env,
  };
  return new Promise((resolve) => {
    const child = execFile(
      CLAUDE,
      ["-p", prompt, "--output-format", "json", ...(options.args ?? [])],
      { cwd, env, timeout: options.timeoutMs ?? 60_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, home, stdout, stderr, json });
      },
    );
    child.stdin?.end();
  });
}

/** Answers as a model would for the prompts below: a tool call for "TOOL:", then the tool's output. */
// biome-ignore lint/suspicious/noExplicitAny: the upstream request body, indexed freely
export function claudeCodeScenario(body: any): Scenario {
  const input: Array<Record<string, unknown>> = Array.isArray(body?.input) ? body.input : [];
  const output = input.find((item) => item.type === "function_call_output");
  if (output) return { kind: "text", text: `Tool said: ${String(output.output).trim()}` };
  if (JSON.stringify(input).includes("TOOL:"))
    return {
      kind: "tool_calls",
      calls: [{ name: "Bash", arguments: JSON.stringify({ command: "echo hi", description: "Print hi" }) }],
      reasoningSummary: ["The user wants me to run a command."],
    };
  return { kind: "text", text: "Hello from the proxy.", reasoningSummary: ["Greeting."] };
}
