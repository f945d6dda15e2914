/**
 * The usage windows last seen (for `status`), in their own file beside the
 * credentials: `usage.json`, mode 0600, written atomically. Kept apart so
 * that saving usage never rewrites the credential file — a rewrite outside
 * the credential lock could put back a refresh token another process had
 * just rotated. Losing usage data is harmless, so an unreadable file is
 * simply started afresh.
 */
import Conf from "conf";
import type { RateLimitSnapshot } from "../codex/rate-limits.js";

interface UsageShape {
  rateLimits?: RateLimitSnapshot;
}

export class UsageFileStore {
  /** Absent when the file cannot be opened at all (e.g. a directory in its place): usage is then not kept. */
  private readonly conf: Conf<UsageShape> | undefined;

  constructor(options: { cwd?: string } = {}) {
    try {
      this.conf = new Conf<UsageShape>({
        projectName: "codex-proxy",
        configName: "usage",
        cwd: options.cwd,
        configFileMode: 0o600,
        clearInvalidConfig: true,
        accessPropertiesByDotNotation: false,
      });
    } catch {
      this.conf = undefined;
    }
  }

  async get(): Promise<RateLimitSnapshot | undefined> {
    try {
      return this.conf?.get("rateLimits");
    } catch {
      return undefined;
    }
  }

  async set(snapshot: RateLimitSnapshot): Promise<void> {
    if (this.conf) this.conf.store = { rateLimits: snapshot };
  }
}
