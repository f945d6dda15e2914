import { Command } from "commander";

// Placeholder until the Worker work lands.
export function pushCredentialsCommand(): Command {
  return new Command("push-credentials")
    .alias("deploy")
    .description("Push the stored credentials to a deployed Cloudflare Worker (not available yet)")
    .requiredOption("--worker-url <url>", "URL of the deployed Worker")
    .option("--admin-key <key>", "the Worker's ADMIN_API_KEY (else $ADMIN_API_KEY, else a prompt)")
    .action(() => {
      console.error("codex-proxy push-credentials is not available yet in this build.");
      process.exitCode = 1;
    });
}
