#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library so it can be tested without argv.
import { runCli } from "../dist/cli/program.js";

process.exitCode = await runCli(process.argv);
