import { type DestinationStream, type LoggerOptions, pino } from "pino";
import type { Logger } from "../plugin-api/services.js";

/** Credential-bearing fields, at the depths metal's log objects use. Never printed. */
export const REDACTED_PATHS = [
  "password",
  "secret",
  "token",
  "authorization",
  "community",
  "*.password",
  "*.secret",
  "*.token",
  "*.authorization",
  "*.community",
  "*.*.password",
  "*.*.secret",
  "*.*.token",
  "*.headers.authorization",
  "*.headers.cookie",
  'headers["x-auth-token"]',
  '*.headers["x-auth-token"]',
];

export interface LoggerSettings {
  level?: string;
  /** Human-friendly lines for a terminal (pino-pretty); JSON lines otherwise. */
  pretty?: boolean;
  name?: string;
  destination?: DestinationStream;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    base: settings.name ? { name: settings.name } : { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.destination) return pino(options, settings.destination) as unknown as Logger;
  if (settings.pretty) {
    return pino({
      ...options,
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", destination: 2 } },
    }) as unknown as Logger;
  }
  return pino(options, pino.destination({ dest: 2, sync: true })) as unknown as Logger;
}

/** A logger that drops everything; for quiet CLI commands and tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" }) as unknown as Logger;
}
