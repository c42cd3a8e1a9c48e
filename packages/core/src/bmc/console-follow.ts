import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname, join } from "node:path";
import type { ConsoleAccess, ConsoleStream } from "../plugin-api/bmc.js";

/** `<dir>/<host>.log`: one console log per host. */
export function consoleLogPath(dir: string, hostname: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(hostname)) throw new Error(`invalid hostname '${hostname}'`);
  return join(dir, `${hostname}.log`);
}

export interface ConsoleFollower {
  readonly logFile: string;
  readonly stream: ConsoleStream;
  /** Bytes received so far. */
  readonly bytes: number;
  stop(): Promise<void>;
}

/**
 * Follow a host's console: every byte is appended to its log file (kept across sessions, like a console
 * server's log) and handed to `echo` (the terminal for `metal console H`).
 */
export async function followConsole(access: ConsoleAccess, logFile: string, echo?: (chunk: Buffer) => void): Promise<ConsoleFollower> {
  mkdirSync(dirname(logFile), { recursive: true });
  const log: WriteStream = createWriteStream(logFile, { flags: "a", mode: 0o640 });
  const stream = await access.open();
  let bytes = 0;
  stream.onData((chunk) => {
    bytes += chunk.length;
    log.write(chunk);
    echo?.(chunk);
  });
  let stopped = false;
  return {
    logFile,
    stream,
    get bytes() {
      return bytes;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stream.close();
      await new Promise<void>((r) => log.end(() => r()));
    },
  };
}
