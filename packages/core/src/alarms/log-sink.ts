import type { Logger } from "../plugin-api/services.js";
import type { AlarmRecord, AlarmSink } from "./sink.js";

/** One log line per alarm change. */
export class LogAlarmSink implements AlarmSink {
  readonly name = "log";
  constructor(private readonly log: Logger) {}
  deliver(r: AlarmRecord): void {
    const line = { alarm: r.id, host: r.hostname, severity: r.severity, operation: r.operation, entity: r.entity };
    if (r.operation === "clear") this.log.info(line, `alarm clear ${r.id} ${r.hostname}`);
    else this.log.warn(line, `alarm ${r.operation} ${r.id} ${r.hostname} ${r.severity}: ${r.text}`);
  }
}
