import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { AlarmRecord, AlarmSink } from "./sink.js";

/**
 * An append-only alarm history: one JSON line per change, opened with O_APPEND and never rewritten. A write
 * that fails (ENOSPC, EIO) throws after cutting the file back to its length before the write, so no torn line
 * is left for the next record to be glued onto; the manager keeps the record and delivers it again.
 */
export class HistoryFileSink implements AlarmSink {
  readonly name = "history";
  readonly stateTarget = "history" as const;
  private readonly fd: number;
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "a", 0o640);
  }
  get statePath(): string {
    return this.path;
  }
  deliver(r: AlarmRecord): void {
    const line = Buffer.from(`${JSON.stringify(r)}\n`);
    const size = fstatSync(this.fd).size;
    try {
      for (let at = 0; at < line.length; ) at += writeSync(this.fd, line, at);
      fsyncSync(this.fd);
    } catch (err) {
      try {
        ftruncateSync(this.fd, size);
      } catch {
        // the read side skips a torn last line
      }
      throw err;
    }
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Read a history file back; a torn last line (kill during a write) is skipped. */
export function readAlarmHistory(path: string): AlarmRecord[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: AlarmRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as AlarmRecord);
    } catch {
      // torn tail
    }
  }
  return out;
}
