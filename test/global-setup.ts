/**
 * Builds dist/ before the suite when src/ changed since the last build, so that
 * the process-level CLI tests spawn the same `bin/codex-proxy.mjs` a user runs
 * (CI builds first; a repeat run skips the compile). A failed build is reported
 * but does not stop the other tests: the CLI tests then fail with their own message.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function newestInput(): number {
  const inputs = ["tsconfig.json", "tsconfig.build.json", "package.json"].map((file) => path.join(root, file));
  for (const entry of readdirSync(path.join(root, "src"), { recursive: true, withFileTypes: true }))
    if (entry.isFile()) inputs.push(path.join(entry.parentPath, entry.name));
  return Math.max(...inputs.map((file) => statSync(file).mtimeMs));
}

function builtAt(): number {
  try {
    return statSync(path.join(root, "dist/cli/program.js")).mtimeMs;
  } catch {
    return 0;
  }
}

export default function setup(): void {
  if (builtAt() > newestInput()) return;
  const tsc = path.join(root, "node_modules/typescript/bin/tsc");
  // As `npm run build` does: files of modules since moved or deleted must not linger in the package.
  rmSync(path.join(root, "dist"), { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "pipe" });
  } catch (error) {
    const output = (error as { stdout?: Buffer }).stdout?.toString() ?? "";
    console.warn(`global setup: the build failed; CLI tests will fail.\n${output.slice(0, 2000)}`);
  }
}
