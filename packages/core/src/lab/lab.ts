import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentMessaging } from "../agent/messaging.js";
import type { HostMessage } from "../agent/ports.js";
import { DefaultAlarmManager } from "../alarms/manager.js";
import { defaultConfig } from "../config/index.js";
import type { MetalConfigInput } from "../config/schema.js";
import { silentLogger } from "../logging/logger.js";
import type { Clock } from "../plugin-api/services.js";
import { freeUdpPorts } from "../transport/free-ports.js";
import type { NetworkName } from "../transport/transport.js";
import { UdpTransport } from "../transport/udp-transport.js";
import { MtcFlag } from "../wire/mtc-flags.js";
import { LabHost, simHostAddress, simHostMac } from "./lab-host.js";
import { type LabRow, renderTable } from "./table.js";

export { simHostAddress } from "./lab-host.js";

export interface LabOptions {
  hosts: number;
  /** Real seconds to run; 0 = until interrupted. */
  durationS: number;
  /** Lab time runs this many times faster than real time (mtcAlive, monitor and boot periods shrink). */
  speed: number;
  json: boolean;
  clock: Clock;
  out: NodeJS.WritableStream;
  /** Keep the per-host root dirs after the run. */
  keep?: boolean;
  /** Drive the lab while it runs (tests, demos); the lab stops when it resolves and the duration is 0. */
  script?: (lab: LabControl) => Promise<void>;
}

/** What a script can reach: the agent's messaging, each host's live view, and its client process. */
export interface LabControl {
  messaging: AgentMessaging;
  hosts: ReadonlyArray<{ hostname: string; view: () => HostView; host: LabHost }>;
  rows(): LabRow[];
}

export interface HostView {
  lastSeen: Partial<Record<NetworkName, number>>;
  messages: number;
  uptime?: number;
  flags?: number;
  goenabled?: "passed" | "failed";
  services?: "passed" | "failed";
}

/** A host counts as gone after this many silent mtcAlive periods. */
const MISSED_PERIODS_OFFLINE = 3;
const NET_LETTER: Record<NetworkName, string> = { mgmt: "M", clusterHost: "C", pxeboot: "P" };

/**
 * `metal lab` stage two: a controller running the real agent messaging stack (inbox, commands, pxeboot
 * monitor) and N simulated hosts, each a real `metal client` process with its own 127.0.1.x address and root.
 */
export async function runLab(o: LabOptions): Promise<{ ok: boolean; rows: LabRow[] }> {
  const base = mkdtempSync(join(tmpdir(), "metal-lab-"));
  const alivePeriodMs = Math.max(50, Math.round(5000 / o.speed));
  const [agentMgmt, agentClstr, agentPxeboot, clientMgmt, clientClstr, clientPxeboot] = (await freeUdpPorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ports = { agentMgmt, agentPxeboot, clientMgmt, clientClstr, clientPxeboot };
  const config = defaultConfig({
    root: base,
    networks: { mgmt: { controller: "127.0.0.1" }, clusterHost: { controller: "127.0.0.1" }, pxeboot: { controller: "127.0.0.1" } },
    ports,
    messaging: { agentClstrPort: agentClstr, pxebootMonitorPeriodMs: Math.max(100, Math.round(10_000 / o.speed)) },
  });
  const log = silentLogger();
  const alarms = new DefaultAlarmManager({ clock: o.clock, log, sinks: [] });
  const messaging = new AgentMessaging({ config, transport: new UdpTransport(), clock: o.clock, logger: log, alarms });
  await messaging.start();

  const views = new Map<string, HostView>();
  const hosts = Array.from({ length: o.hosts }, (_, i) => {
    const hostname = `worker-${i}`;
    const address = simHostAddress(i);
    const clientConfig: MetalConfigInput = {
      root: join(base, hostname),
      node: { hostname, subfunctions: ["worker"], mac: simHostMac(i) },
      networks: {
        mgmt: { address, controller: "127.0.0.1" },
        clusterHost: { address, controller: "127.0.0.1" },
        pxeboot: { address, controller: "127.0.0.1" },
      },
      ports,
      messaging: { agentClstrPort: agentClstr, mtcAlivePeriodMs: alivePeriodMs, firstMtcAliveMs: Math.max(20, Math.round(1000 / o.speed)), nodeActions: "lab" },
      logging: { level: "warn" },
    };
    const host = new LabHost(hostname, address, simHostMac(i), join(base, hostname), clientConfig, o.clock, Math.max(200, Math.round(10_000 / o.speed)));
    views.set(hostname, { lastSeen: {}, messages: 0 });
    messaging.setHost({ hostname, mgmtIp: address, mgmtMac: host.mac, administrative: "unlocked" });
    messaging.watchPxeboot(hostname, true);
    return host;
  });

  messaging.onMessage((m: HostMessage) => {
    const v = views.get(m.hostname);
    if (!v) return;
    v.messages++;
    if (m.kind === "mtcAlive") {
      v.lastSeen[m.network] = o.clock.now();
      v.uptime = m.uptime;
      v.flags = m.flags;
    } else if (m.kind === "goenabled") v.goenabled = m.passed ? "passed" : "failed";
    else if (m.kind === "hostServicesResult") v.services = m.rc === 0 ? "passed" : "failed";
  });
  for (const h of hosts) h.boot(h.prepare());

  const rows = (): LabRow[] =>
    hosts.map((h) => {
      const v = views.get(h.hostname) as HostView;
      const now = o.clock.now();
      const fresh = (n: NetworkName) => v.lastSeen[n] !== undefined && now - (v.lastSeen[n] as number) <= alivePeriodMs * MISSED_PERIODS_OFFLINE;
      const seen = v.lastSeen.mgmt;
      const state =
        h.phase === "rebooting"
          ? "rebooting"
          : h.phase === "crashed"
            ? "crashed"
            : seen === undefined
              ? "unregistered"
              : fresh("mgmt")
                ? "registered"
                : "offline";
      const flags = v.flags ?? 0;
      return {
        hostname: h.hostname,
        address: h.address,
        state,
        lastSeenS: seen === undefined ? null : (now - seen) / 1000,
        messages: v.messages,
        networks: (["mgmt", "clusterHost", "pxeboot"] as const).map((n) => (fresh(n) ? NET_LETTER[n] : "-")).join(""),
        uptimeS: v.uptime ?? null,
        goenabled: flags & MtcFlag.MAIN_GOENABLED ? "pass" : (v.goenabled ?? "-"),
        locked: (flags & MtcFlag.I_AM_LOCKED) !== 0,
        boots: h.boots,
        pxebootAlarm: alarms.active().some((a) => a.id === "200.003" && a.hostname === h.hostname),
      };
    });
  const tty = "isTTY" in o.out && (o.out as NodeJS.WriteStream).isTTY;
  const started = o.clock.now();
  const draw = () => {
    if (o.json || !tty) return;
    const header = `metal lab: controller-0 @127.0.0.1:${agentMgmt} (real agent inbox), ${o.hosts} hosts running mtcClient, speed x${o.speed}, ${((o.clock.now() - started) / 1000).toFixed(0)}s`;
    o.out.write(`\x1b[H\x1b[2J${renderTable(rows(), header)}\n`);
  };
  const drawTimer = o.clock.setInterval(draw, 500);

  const control: LabControl = { messaging, hosts: hosts.map((h) => ({ hostname: h.hostname, host: h, view: () => views.get(h.hostname) as HostView })), rows };
  let scriptError: unknown;
  const stop = new Promise<void>((resolve) => {
    if (o.durationS > 0) setTimeout(resolve, o.durationS * 1000);
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
    if (o.script)
      o.script(control).then(
        () => {
          if (o.durationS === 0) resolve();
        },
        (err: unknown) => {
          scriptError = err;
          resolve();
        },
      );
  });
  await stop;
  o.clock.clearInterval(drawTimer);

  const final = rows();
  await Promise.all(hosts.map((h) => h.stop()));
  await messaging.stop();
  if (!o.keep) rmSync(base, { recursive: true, force: true });
  if (scriptError) throw scriptError;
  const ok = final.every((r) => r.state === "registered");
  if (o.json) o.out.write(`${JSON.stringify({ ok, hosts: final }, null, 2)}\n`);
  else o.out.write(`${renderTable(final, "metal lab: final host states")}\n`);
  if (!ok) for (const h of hosts) if (h.stderrTail()) process.stderr.write(`--- ${h.hostname} client stderr tail ---\n${h.stderrTail()}\n`);
  return { ok, rows: final };
}
