#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library so it can be tested without argv.
import { runCli } from "../dist/cli/program.js";

runCli(process.argv).catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
