import { Writable } from "node:stream";
import { createLogger } from "../../src/logging/logger.js";
import type { Logger } from "../../src/plugin-api/services.js";

/** A real pino logger whose JSON lines land in an array, so tests can assert on what was logged. */
export function captureLogger(level = "debug"): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}
