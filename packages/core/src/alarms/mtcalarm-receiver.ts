import { RateLimitedLog } from "../logging/rate-limited.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import type { DatagramAuth } from "../transport/datagram-auth.js";
import { UdpSocket } from "../transport/udp-socket.js";
import type { AlarmManager, AlarmSeverity } from "./alarm-manager.js";
import { alarmDefinition } from "./catalog.js";

/** One request of mtcalarmd's UDP JSON (reference §7): `{"mtcalarm":[{alarmid, hostname, operation, severity, entity, prefix}]}`. */
export interface MtcalarmRequest {
  alarmid: string;
  hostname: string;
  operation: "set" | "clear" | "msg";
  severity: AlarmSeverity;
  entity?: string;
}

const SEVERITIES: readonly AlarmSeverity[] = ["clear", "warning", "minor", "major", "critical"];
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/;
const ENTITY = /^[A-Za-z0-9 ._=-]{0,64}$/;
const MAX_REQUESTS = 32;

/** Parse one mtcalarm datagram; every request checked against the alarm catalog. Never throws. */
export function parseMtcalarm(data: Buffer): { ok: true; requests: MtcalarmRequest[] } | { ok: false; reason: string } {
  if (data.length > 8192) return { ok: false, reason: `oversized mtcalarm datagram (${data.length} bytes)` };
  let body: unknown;
  try {
    body = JSON.parse(data.toString("utf8"));
  } catch {
    return { ok: false, reason: "mtcalarm datagram is not JSON" };
  }
  const list = (body as { mtcalarm?: unknown } | null)?.mtcalarm;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_REQUESTS)
    return { ok: false, reason: `expected {"mtcalarm":[1..${MAX_REQUESTS} requests]}` };
  const requests: MtcalarmRequest[] = [];
  for (const r of list as Array<Record<string, unknown>>) {
    if (!r || typeof r !== "object") return { ok: false, reason: "an mtcalarm request is not an object" };
    const { alarmid, hostname, operation, severity, entity } = r;
    const def = typeof alarmid === "string" ? alarmDefinition(alarmid) : undefined;
    if (def?.kind !== "alarm") return { ok: false, reason: `unknown alarm id ${JSON.stringify(alarmid)?.slice(0, 20)}` };
    if (typeof hostname !== "string" || !HOSTNAME.test(hostname)) return { ok: false, reason: "bad hostname" };
    if (operation !== "set" && operation !== "clear" && operation !== "msg") return { ok: false, reason: "operation must be set, clear or msg" };
    if (typeof severity !== "string" || !(SEVERITIES as readonly string[]).includes(severity)) return { ok: false, reason: "bad severity" };
    if (operation === "set" && !def.severities.includes(severity as AlarmSeverity))
      return { ok: false, reason: `${def.id} does not carry severity ${severity}` };
    if (entity !== undefined && (typeof entity !== "string" || !ENTITY.test(entity))) return { ok: false, reason: "bad entity" };
    requests.push({ alarmid: def.id, hostname, operation, severity: severity as AlarmSeverity, ...(entity ? { entity } : {}) });
  }
  return { ok: true, requests };
}

/**
 * The mtcalarmd side of the hbsAgent's alarm path, inside the mtcAgent (issue 14 item 8): heartbeat and pmond-missing
 * alarms arrive as UDP JSON on `mtcalarm_req_port` (2122) and are raised or cleared in the agent's own alarm table, so
 * a standalone `metal agent` shows 200.005/200.009 in `alarm-list`. A bad datagram is dropped with one rate-limited
 * log line.
 */
export class MtcalarmReceiver {
  private sock: UdpSocket | undefined;
  private readonly bad: RateLimitedLog;
  readonly stats = { received: 0, applied: 0, dropped: 0 };

  constructor(private readonly o: { address: string; port: number; auth: DatagramAuth; alarms: AlarmManager; clock: Clock; log: Logger }) {
    this.bad = new RateLimitedLog(o.log, o.clock);
  }

  async start(): Promise<void> {
    this.sock = await UdpSocket.bind({
      address: this.o.address,
      port: this.o.port,
      auth: this.o.auth,
      label: "mtcalarm",
      onMessage: (d, from) => this.onDatagram(d, from.address),
    });
  }

  async stop(): Promise<void> {
    await this.sock?.close();
    this.sock = undefined;
  }

  private onDatagram(data: Buffer, from: string): void {
    this.stats.received++;
    const p = parseMtcalarm(data);
    if (!p.ok) {
      this.stats.dropped++;
      this.bad.warn(`mtcalarm:${from}`, { from, reason: p.reason }, "mtcalarm request dropped");
      return;
    }
    for (const r of p.requests) {
      const def = alarmDefinition(r.alarmid);
      if (r.operation === "clear") this.o.alarms.clear(r.alarmid, r.hostname, r.entity);
      else if (r.operation === "set")
        this.o.alarms.raise({
          id: r.alarmid,
          hostname: r.hostname,
          severity: r.severity,
          ...(r.entity ? { entity: r.entity } : {}),
          text: `${r.hostname} ${def?.name ?? r.alarmid}${r.entity ? ` (${r.entity})` : ""}`,
        });
      this.stats.applied++;
    }
  }
}
