import { Command } from "commander";

// Placeholder until the accounts work lands.
export function statusCommand(): Command {
  return new Command("status").description("status (not available yet)").action(() => {
    console.error("codex-proxy status is not available yet in this build.");
    process.exitCode = 1;
  });
}
