/** Human wording for the CLI's views. */
import { type RateLimitSnapshot, windowLabel, windowsOf } from "../codex/rate-limits.js";
import type { CredentialStatus } from "../credentials/types.js";

export function inWords(ms: number): string {
  const abs = Math.abs(ms);
  const minutes = Math.floor(abs / 60_000);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  const parts =
    days > 0
      ? [`${days} day${days === 1 ? "" : "s"}`, hours % 24 ? `${hours % 24} hour${hours % 24 === 1 ? "" : "s"}` : ""]
      : hours > 0
        ? [
            `${hours} hour${hours === 1 ? "" : "s"}`,
            minutes % 60 ? `${minutes % 60} minute${minutes % 60 === 1 ? "" : "s"}` : "",
          ]
        : [minutes > 0 ? `${minutes} minute${minutes === 1 ? "" : "s"}` : "less than a minute"];
  const text = parts.filter(Boolean).join(" ");
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

function windowLine(
  label: string,
  window: { usedPercent: number; resetsAt?: number } | undefined,
  now: number,
): string | undefined {
  if (!window) return undefined;
  const reset = window.resetsAt
    ? `, resets ${inWords(window.resetsAt * 1000 - now)} (${new Date(window.resetsAt * 1000).toLocaleString()})`
    : "";
  return `  ${label}: ${Math.round(window.usedPercent * 10) / 10}% used${reset}`;
}

/**
 * Why credentials that are present cannot be used, or undefined. An expired
 * access token with a refresh token is not here: `serve` renews it.
 */
export function unusableReason(status: CredentialStatus, now: number, hasRefreshToken?: boolean): string | undefined {
  if (!status.hasCredentials) return undefined;
  if (typeof status.expiresAt !== "number" || !Number.isFinite(status.expiresAt) || status.expiresAt <= 0)
    return `the stored access-token expiry is missing or invalid (expiresAt: ${JSON.stringify(status.expiresAt) ?? "absent"}); run \`codex-proxy login\` again`;
  if (status.lastRefreshErrorTerminal)
    return `the refresh token can no longer be used (${String(status.lastRefreshError ?? "refused by the issuer")}), so this login cannot be renewed${status.isExpired ? "" : ` once the access token expires ${inWords(status.expiresAt - now)}`}; run \`codex-proxy login\``;
  if (status.isExpired && hasRefreshToken === false)
    return "the access token has expired and there is no refresh token to renew it; run `codex-proxy login`";
  return undefined;
}

export function renderStatus(
  status: CredentialStatus,
  now: number,
  options: {
    source: string;
    rateLimits?: RateLimitSnapshot;
    /** From `unusableReason`: printed first, as the one thing to act on. */
    problem?: string;
    /** Why the expiry is unknown (a non-JWT ACCESS_TOKEN): shown instead of an expiry. */
    expiryUnknown?: string;
  },
): string {
  if (!status.hasCredentials) return `No credentials (${options.source}). Run \`codex-proxy login\`.`;
  const lines = [`Credentials: ${options.source}`];
  if (options.problem) lines.push(`  UNUSABLE: ${options.problem}.`);
  const who = [status.email, status.accountId ? `account ${String(status.accountId)}` : undefined]
    .filter(Boolean)
    .join(", ");
  lines.push(`  account: ${who || status.userID}`);
  if (status.plan) lines.push(`  plan: ${String(status.plan)}`);
  const expiry = new Date(status.expiresAt).toLocaleString();
  lines.push(
    options.expiryUnknown
      ? `  access token: ${options.expiryUnknown}`
      : !Number.isFinite(status.expiresAt)
        ? "  access token: no valid expiry recorded"
        : status.isExpired
          ? `  access token: EXPIRED (${inWords(status.expiresAt - now)}, ${expiry})`
          : `  access token: expires ${inWords(status.expiresAt - now)} (${expiry})`,
  );
  if (status.handedOffTo) {
    lines.push(
      `  chain: handed off to ${String(status.handedOffTo)} — not refreshed here any more; \`codex-proxy login\` starts a new local chain`,
    );
  } else if (!options.expiryUnknown) {
    lines.push(
      `  refresh: ${status.needsRefreshSoon ? "due (within 60 minutes of expiry); the proxy refreshes before the next request" : "not due yet"}`,
    );
  }
  if (typeof status.lastRefresh === "number") lines.push(`  last refresh: ${inWords(status.lastRefresh - now)}`);
  if (status.lastRefreshError) lines.push(`  last refresh error: ${String(status.lastRefreshError)}`);
  const limits = options.rateLimits;
  if (limits) {
    lines.push(`Usage (as last seen ${inWords(limits.observedAt - now)}):`);
    // Labelled by their length, whichever slot they came in (docs/protocol.md §11).
    for (const window of windowsOf(limits)) {
      const line = windowLine(`${windowLabel(window.windowMinutes)} window`, window, now);
      if (line) lines.push(line);
    }
  }
  return lines.join("\n");
}

const BAR_WIDTH = 20;

/** `[#########-----------]`: how much of a window is used, in a fixed width. */
function bar(usedPercent: number): string {
  const filled = Math.max(0, Math.min(BAR_WIDTH, Math.round((usedPercent / 100) * BAR_WIDTH)));
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
}

/** The usage windows as bars, one line each: `5-hour  [#########-----------] 45% · resets in 2 hours`. */
export function usageBars(rateLimits: RateLimitSnapshot | undefined, now: number, prefix = ""): string[] {
  const windows = windowsOf(rateLimits);
  if (!rateLimits || windows.length === 0) return [];
  const labels = windows.map((window) => windowLabel(window.windowMinutes));
  const width = Math.max(...labels.map((label) => label.length));
  const lines = [`${prefix}Usage (as last seen ${inWords(rateLimits.observedAt - now)}):`];
  windows.forEach((window, i) => {
    const percent = `${Math.round(window.usedPercent * 10) / 10}%`;
    const reset = window.resetsAt
      ? ` · ${window.resetsAt * 1000 > now ? "resets" : "reset"} ${inWords(window.resetsAt * 1000 - now)}`
      : "";
    lines.push(`${prefix}  ${labels[i]!.padEnd(width)}  ${bar(window.usedPercent)} ${percent}${reset}`);
  });
  return lines;
}

/** Left-aligned columns, two spaces apart, for the CLI's tables. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
