/**
 * A real headless browser for the status page: Debian's `chromium` (or
 * CHROMIUM_PATH). `--dump-dom` loads the page, runs its script for a budget
 * of virtual time (its fetches complete) and prints the resulting DOM.
 * Everything but loopback goes to a closed proxy port, and background
 * services (updates, sync, component downloads) are off, so the browser
 * never leaves this machine.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The browser binary, or undefined when this machine has none (the page tests then say so and skip). */
export function findChromium(): string | undefined {
  const configured = process.env.CHROMIUM_PATH?.trim();
  if (configured) return existsSync(configured) ? configured : undefined;
  return CANDIDATES.find((candidate) => existsSync(candidate));
}

/** Loads `url` headless and returns the DOM after `budgetMs` of virtual time. */
export async function dumpDom(url: string, budgetMs = 2500): Promise<string> {
  const binary = findChromium();
  if (!binary) throw new Error("No chromium found: install it (apt-get install -y chromium) or set CHROMIUM_PATH.");
  const profile = mkdtempSync(path.join(tmpdir(), "codex-proxy-chromium-"));
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    `--user-data-dir=${profile}`,
    // Loopback is always reached directly; anything else is refused at once.
    "--proxy-server=http://127.0.0.1:9",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--dump-dom",
    `--virtual-time-budget=${budgetMs}`,
    url,
  ];
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(binary, args, { timeout: 30_000, maxBuffer: 8 * 1024 * 1024 }, (error, stdout) => {
        if (error) reject(error);
        else resolve(stdout);
      });
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
