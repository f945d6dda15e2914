/** Human wording for the CLI's views. */
import type { RateLimitSnapshot } from "../codex/rate-limits.js";
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

export function renderStatus(
  status: CredentialStatus,
  now: number,
  options: { source: string; rateLimits?: RateLimitSnapshot },
): string {
  if (!status.hasCredentials) return `No credentials (${options.source}). Run \`codex-proxy login\`.`;
  const lines = [`Credentials: ${options.source}`];
  const who = [status.email, status.accountId ? `account ${String(status.accountId)}` : undefined]
    .filter(Boolean)
    .join(", ");
  lines.push(`  account: ${who || status.userID}`);
  if (status.plan) lines.push(`  plan: ${String(status.plan)}`);
  const expiry = new Date(status.expiresAt).toLocaleString();
  lines.push(
    status.isExpired
      ? `  access token: EXPIRED (${inWords(status.expiresAt - now)}, ${expiry})`
      : `  access token: expires ${inWords(status.expiresAt - now)} (${expiry})`,
  );
  if (status.handedOffTo) {
    lines.push(
      `  chain: handed off to ${String(status.handedOffTo)} — not refreshed here any more; ` +
        "`codex-proxy login` starts a new local chain",
    );
  } else {
    const due = "due (within 60 minutes of expiry); the proxy refreshes before the next request";
    lines.push(`  refresh: ${status.needsRefreshSoon ? due : "not due yet"}`);
  }
  if (typeof status.lastRefresh === "number") lines.push(`  last refresh: ${inWords(status.lastRefresh - now)}`);
  if (status.lastRefreshError) lines.push(`  last refresh error: ${String(status.lastRefreshError)}`);
  const limits = options.rateLimits;
  if (limits) {
    lines.push(`Usage (as last seen ${inWords(limits.observedAt - now)}):`);
    for (const line of [
      windowLine("5-hour window", limits.primary, now),
      windowLine("weekly window", limits.secondary, now),
    ])
      if (line) lines.push(line);
  }
  return lines.join("\n");
}
