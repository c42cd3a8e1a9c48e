import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { AlarmRecord, AlarmSink } from "./sink.js";

/** An append-only alarm history: one JSON line per change, opened with O_APPEND and never rewritten. */
export class HistoryFileSink implements AlarmSink {
  readonly name = "history";
  private readonly fd: number;
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "a", 0o640);
  }
  deliver(r: AlarmRecord): void {
    writeSync(this.fd, `${JSON.stringify(r)}\n`);
    fsyncSync(this.fd);
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
