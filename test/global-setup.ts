/**
 * Builds dist/ once before the suite, so that CLI tests spawn the same
 * `bin/codex-proxy.mjs` a user runs. A failed build is reported but does not
 * stop the other tests: the CLI tests then fail with their own message.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
  // As `npm run build` does: files of modules since moved or deleted must not linger in the package.
  rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "pipe" });
  } catch (error) {
    const output = (error as { stdout?: Buffer }).stdout?.toString() ?? "";
    console.warn(`global setup: the build failed; CLI tests will fail.\n${output.slice(0, 2000)}`);
  }
}
