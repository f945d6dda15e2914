/**
 * Runs the real Codex CLI (`codex exec`, from node_modules) offline against a
 * proxy: a temporary CODEX_HOME whose config.toml declares the proxy as a
 * custom model provider, with update checks, telemetry and the start-up
 * catalogue syncs off, and every other destination sent to a refused loopback
 * port (loopback-only.ts).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { LOOPBACK_ONLY_ENV } from "./loopback-only.js";

export interface CodexRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CodexRunOptions {
  baseURL: string;
  prompt: string;
  model?: string;
  /** Let the CLI try its WebSocket transport on `GET {base}/responses` first. */
  websockets?: boolean;
  extraConfig?: string;
  timeoutMs?: number;
  args?: string[];
}

// The package's own launcher (it picks the platform binary), found the way Node finds the package.
const require = createRequire(import.meta.url);
const CODEX_BIN = join(dirname(require.resolve("@openai/codex/package.json")), "bin", "codex.js");

function codexConfig(options: CodexRunOptions): string {
  return `model = "${options.model ?? "gpt-5.5"}"
model_provider = "proxy"
check_for_update_on_startup = false
${options.extraConfig ?? ""}

[model_providers.proxy]
name = "codex-proxy"
base_url = "${options.baseURL}"
wire_api = "responses"
env_key = "CODEX_PROXY_TEST_KEY"
supports_websockets = ${options.websockets === true}
request_max_retries = 0
stream_max_retries = 0

# Features that reach github.com, api.github.com and chatgpt.com at start-up (plugin and app
# catalogues, tool suggestions): off, so the CLI talks only to the proxy.
[features]
plugins = false
remote_plugin = false
plugin_sharing = false
apps = false
tool_suggest = false

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"
log_user_prompt = false


`;
}

export async function runCodexExec(options: CodexRunOptions): Promise<CodexRun> {
  const home = mkdtempSync(join(tmpdir(), "codex-home-"));
  const work = mkdtempSync(join(tmpdir(), "codex-work-"));
  writeFileSync(join(home, "config.toml"), codexConfig(options));
  const started = performance.now();
  try {
    return await new Promise<CodexRun>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [CODEX_BIN, "exec", "--skip-git-repo-check", "--sandbox", "read-only", ...(options.args ?? []), options.prompt],
        {
          cwd: work,
          env: {
            PATH: process.env.PATH,
            HOME: home,
            CODEX_HOME: home,
            CODEX_PROXY_TEST_KEY: "unused",
            RUST_LOG: "warn",
            NO_COLOR: "1",
            ...LOOPBACK_ONLY_ENV,
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
      child.once("error", reject);
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      });
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
