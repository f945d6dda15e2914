/**
 * The backend accepts function names of at most 64 characters; longer ones
 * (common with MCP tool prefixes) are shortened deterministically and
 * restored in the answer.
 */
import { hash64 } from "./hash.js";

const MAX_TOOL_NAME = 64;

/** Shortened name → the client's original name. */
export type ToolNameMap = ReadonlyMap<string, string>;

export function shortenToolName(name: string): string {
  if (name.length <= MAX_TOOL_NAME) return name;
  // Keep the end (the tool's own name, after any mcp__server__ prefix) readable.
  const suffix = `_${hash64(name).slice(0, 8)}`;
  const keep = MAX_TOOL_NAME - suffix.length;
  const tail = name.slice(-Math.floor(keep / 2));
  const head = name.slice(0, keep - tail.length);
  return `${head}${tail}${suffix}`;
}

export function restoreToolName(name: string, map: ToolNameMap): string {
  return map.get(name) ?? name;
}
