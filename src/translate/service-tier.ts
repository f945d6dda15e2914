/**
 * `service_tier` as the backend takes it (docs/protocol.md §4.4): only
 * `priority` is accepted. Clients and the Codex CLI's "fast mode" say `fast`,
 * which the backend refuses with a 400, so it is sent as `priority`; other
 * values (`auto`, `default`, `flex`) mean the ordinary tier and are dropped.
 */
export function serviceTier(requested: unknown): "priority" | undefined {
  return requested === "priority" || requested === "fast" ? "priority" : undefined;
}
