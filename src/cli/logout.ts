import { Command } from "commander";

// Placeholder until the accounts work lands.
export function logoutCommand(): Command {
  return new Command("logout").description("logout (not available yet)").action(() => {
    console.error("codex-proxy logout is not available yet in this build.");
    process.exitCode = 1;
  });
}
