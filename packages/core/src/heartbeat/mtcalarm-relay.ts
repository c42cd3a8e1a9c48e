/**
 * The hbsAgent's alarm path (reference mtce-core.md §7): the original sends UDP JSON to mtcalarmd on loopback
 * `mtcalarm_req_port` — `{"mtcalarm":[{"alarmid","hostname","operation":"set|clear","severity","entity","prefix"}]}`.
 * This AlarmManager keeps the active set in memory (duplicate calls are suppressed, as the original's per-host
 * alarms[] does) and forwards each real change to that relay when a socket is given. The daemon uses it until
 * the mtcAgent's own AlarmManager is wired in; tests use it without a socket.
 */
import type { ActiveAlarm, AlarmEvent, AlarmManager } from "../alarms/alarm-manager.js";
import type { Clock } from "../plugin-api/services.js";
import type { UdpSocket } from "../transport/udp-socket.js";
import { sendUdp } from "./udp.js";

export interface MtcalarmTarget {
  sock: UdpSocket;
  address: string;
  port: number;
  onError: (err: Error) => void;
}

const key = (id: string, hostname: string, entity?: string) => `${id}|${hostname}|${entity ?? ""}`;

export class MtcalarmRelay implements AlarmManager {
  private readonly current = new Map<string, ActiveAlarm>();
  /** Every change in order (set and clear), for tests and logs. */
  readonly changes: Array<{ operation: "set" | "clear"; id: string; hostname: string; severity: string; entity?: string }> = [];

  constructor(
    private readonly clock: Clock,
    private readonly target?: MtcalarmTarget,
  ) {}

  raise(alarm: AlarmEvent): void {
    const k = key(alarm.id, alarm.hostname, alarm.entity);
    const was = this.current.get(k);
    if (was && was.severity === alarm.severity) return;
    this.current.set(k, { ...alarm, raisedAt: this.clock.now() });
    this.emit("set", alarm.id, alarm.hostname, alarm.severity, alarm.entity);
  }

  clear(id: string, hostname: string, entity?: string): void {
    if (!this.current.delete(key(id, hostname, entity))) return;
    this.emit("clear", id, hostname, "clear", entity);
  }

  active(): readonly ActiveAlarm[] {
    return [...this.current.values()];
  }

  private emit(operation: "set" | "clear", id: string, hostname: string, severity: string, entity?: string): void {
    const change = { operation, id, hostname, severity, ...(entity ? { entity } : {}) };
    this.changes.push(change);
    if (this.changes.length > 10_000) this.changes.splice(0, 5_000);
    if (!this.target) return;
    const body = { mtcalarm: [{ alarmid: id, hostname, operation, severity, entity: entity ?? "", prefix: "service=heartbeat" }] };
    sendUdp(this.target.sock, Buffer.from(JSON.stringify(body)), this.target.port, this.target.address, this.target.onError);
  }
}
