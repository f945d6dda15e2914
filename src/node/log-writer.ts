import type { LogLevel } from "../core/config.js";

/** Where `serve` writes its log lines: production logs are one JSON stream for collectors; humans get errors on stderr. */
export function stdioLogWriter(production: boolean): (line: string, level: LogLevel) => void {
  return (line, level) => {
    if (!production && (level === "error" || level === "warn")) process.stderr.write(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  };
}
