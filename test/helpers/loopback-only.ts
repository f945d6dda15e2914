/**
 * Environment for the real clients the tests spawn (Codex CLI, Claude Code):
 * no test may send traffic anywhere but this machine. Anything a client tries
 * to reach on its own (update checks, plugin or model syncs, telemetry) goes
 * through a proxy on a closed loopback port (9, discard) and is refused at
 * once, while the loopback addresses the tests serve on are reached directly.
 */
const REFUSED_PROXY = "http://127.0.0.1:9";
const LOOPBACK = "127.0.0.1,localhost,::1";

export const LOOPBACK_ONLY_ENV: Readonly<Record<string, string>> = {
  HTTPS_PROXY: REFUSED_PROXY,
  HTTP_PROXY: REFUSED_PROXY,
  ALL_PROXY: REFUSED_PROXY,
  https_proxy: REFUSED_PROXY,
  http_proxy: REFUSED_PROXY,
  all_proxy: REFUSED_PROXY,
  NO_PROXY: LOOPBACK,
  no_proxy: LOOPBACK,
};
