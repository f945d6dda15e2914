import { Command } from "commander";

// Placeholder until the accounts work lands.
export function loginCommand(): Command {
  return new Command("login").description("login (not available yet)").action(() => {
    console.error("codex-proxy login is not available yet in this build.");
    process.exitCode = 1;
  });
}
