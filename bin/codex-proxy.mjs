#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library so it can be tested without argv.
let cli;
try {
  cli = await import("../dist/cli/program.js");
} catch (error) {
  // A fresh clone has no dist/ until it is built; say so instead of printing a module-resolution trace.
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/cli/program.js")) {
    console.error("codex-proxy is not built yet: run `npm install && npm run build` in its directory first.");
    process.exit(1);
  }
  throw error;
}

process.exitCode = await cli.runCli(process.argv);
