import test from "ava";
import { AgentMessaging, CommandTimeoutError } from "../src/agent/messaging.js";
import type { HostMessage } from "../src/agent/ports.js";
import { SystemClock } from "../src/clock/system-clock.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { defaultConfig } from "../src/config/index.js";
import type { Clock } from "../src/plugin-api/services.js";
import { UdpTransport } from "../src/transport/udp-transport.js";
import { mtcAliveMessage } from "../src/wire/mtc-alive.js";
import { MtcCmd, MtcEvent } from "../src/wire/mtc-codes.js";
import { MtcFlag } from "../src/wire/mtc-flags.js";
import { decodeMtcMessage, encodeMtcMessage, mtcMessage, Signature } from "../src/wire/mtc-message.js";
import { captureLogger } from "./helpers/capture-logger.js";
import { MemoryAlarms } from "./helpers/memory-alarms.js";
import { freeMessagingPorts, Peer } from "./helpers/udp.js";

const HOST_IP = "127.0.1.41";
const MAC = "52:54:00:aa:bb:01";

async function setup(t: import("ava").ExecutionContext, clock: Clock = new SystemClock(), overrides: Record<string, unknown> = {}) {
  const { agentMgmt, agentClstr, agentPxeboot, clientMgmt, clientClstr, clientPxeboot } = await freeMessagingPorts();
  const config = defaultConfig({
    networks: { mgmt: { controller: "127.0.0.1" }, clusterHost: { controller: "127.0.0.1" }, pxeboot: { controller: "127.0.0.1" } },
    ports: { agentMgmt, agentPxeboot, clientMgmt, clientClstr, clientPxeboot },
    messaging: { agentClstrPort: agentClstr, ...overrides },
  });
  const { logger, lines } = captureLogger();
  const alarms = new MemoryAlarms();
  const messaging = new AgentMessaging({ config, transport: new UdpTransport(), clock, logger, alarms });
  await messaging.start();
  const mgmt = await Peer.bind(HOST_IP, clientMgmt);
  const clstr = await Peer.bind(HOST_IP, clientClstr);
  const pxe = await Peer.bind(HOST_IP, clientPxeboot);
  const got: HostMessage[] = [];
  messaging.onMessage((m) => got.push(m));
  t.teardown(async () => {
    for (const p of [mgmt, clstr, pxe]) p.close();
    await messaging.stop();
  });
  const alive = (network: "Mgmnt" | "Clstr" | "Pxeboot", sequence: number, flags = 0) =>
    encodeMtcMessage(
      mtcAliveMessage({
        uptime: 42,
        health: 1,
        flags,
        sequence,
        payload: { hostname: "worker-1", personality: "worker", interface: network, sequence, mgmt_mac: MAC, mgmt_ip: HOST_IP },
      }),
    );
  return { config, messaging, mgmt, clstr, pxe, got, lines, alarms, alive, ports: { agentMgmt, agentClstr, agentPxeboot } };
}

async function until(pred: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("mtcAlive on mgmt, cluster-host and pxeboot reaches listeners; cluster-host and pxeboot addresses are learned", async (t) => {
  const s = await setup(t);
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP });
  await s.mgmt.send(s.alive("Mgmnt", 1, MtcFlag.I_AM_CONFIGURED), s.ports.agentMgmt);
  await s.clstr.send(s.alive("Clstr", 1), s.ports.agentClstr);
  await s.pxe.send(s.alive("Pxeboot", 1), s.ports.agentPxeboot);
  await until(() => s.got.length === 3);
  const networks = s.got.map((m) => (m.kind === "mtcAlive" ? m.network : m.kind)).sort();
  t.deepEqual(networks, ["clusterHost", "mgmt", "pxeboot"]);
  const m = s.got.find((x) => x.kind === "mtcAlive" && x.network === "mgmt");
  t.like(m, { kind: "mtcAlive", hostname: "worker-1", uptime: 42, health: 1, flags: MtcFlag.I_AM_CONFIGURED, sequence: 1, mac: MAC, personality: "worker" });
  const h = s.messaging.host("worker-1");
  t.is(h?.clusterHostIp, HOST_IP);
  t.is(h?.pxebootIp, HOST_IP);
  t.is(h?.mgmtMac, MAC, "MAC learned from the mtcAlive");
});

test("a command carries the MAC at hdr[17] and resolves with the ACK's rc", async (t) => {
  const s = await setup(t);
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP, mgmtMac: MAC });
  const pending = s.messaging.command("worker-1", "reboot");
  const req = await s.mgmt.waitFor(() => true);
  const d = decodeMtcMessage(req.data);
  t.true(d.ok);
  if (!d.ok) return;
  t.is(d.msg.signature, Signature.cmdReq);
  t.is(d.msg.cmd, MtcCmd.MTC_CMD_REBOOT);
  t.is(d.msg.mac, MAC);
  t.is(req.data.subarray(17, 17 + MAC.length).toString("latin1"), MAC);
  t.like(JSON.parse(d.msg.buf), { address: "127.0.0.1", interface: "Mgmnt" });
  await s.mgmt.send(encodeMtcMessage({ ...d.msg, signature: Signature.cmdRsp, mac: undefined, parm: [7, 0, 0, 0, 0] }), req.port);
  t.is(await pending, 7);
});

test("locked carries LOCK_PERSIST unless the system is simplex; 'all' goes out on every learned network", async (t) => {
  const s = await setup(t);
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP, mgmtMac: MAC, clusterHostIp: HOST_IP, pxebootIp: HOST_IP });
  const p = s.messaging.command("worker-1", "locked", { network: "all", expectAck: false });
  const got = await Promise.all([s.mgmt.waitFor(() => true), s.clstr.waitFor(() => true), s.pxe.waitFor(() => true)]);
  await p;
  for (const g of got) {
    const d = decodeMtcMessage(g.data);
    t.true(d.ok && d.msg.cmd === MtcCmd.MTC_MSG_LOCKED && d.msg.num === 1 && d.msg.parm[0] === 1);
  }
});

test("no ACK: the command rejects with CommandTimeoutError after the configured time (virtual time)", async (t) => {
  const clock = new VirtualClock();
  const s = await setup(t, clock);
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP, mgmtMac: MAC });
  const pending = s.messaging.command("worker-1", "reset");
  let outcome: unknown;
  pending.catch((e: unknown) => {
    outcome = e;
  });
  await clock.advance(9_000);
  t.is(outcome, undefined, "still waiting at 9 s");
  await clock.advance(1_100);
  t.true(outcome instanceof CommandTimeoutError);
  t.regex(String(outcome), /no ACK to reset within 10 s/);
  await t.throwsAsync(s.messaging.command("nobody", "reboot"), { message: /unknown host/ });
});

test("bad input is dropped with one rate-limited line; the inbox keeps serving", async (t) => {
  const s = await setup(t);
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP });
  const stranger = await Peer.bind("127.0.1.99");
  t.teardown(() => stranger.close());
  const badSig = encodeMtcMessage(mtcMessage({ signature: "not a signature!", cmd: 5 }));
  const unknown = encodeMtcMessage(
    mtcAliveMessage({ uptime: 1, health: 0, flags: 0, sequence: 1, payload: { hostname: "ghost", personality: "", interface: "Mgmnt", sequence: 1 } }),
  );
  const badJson = encodeMtcMessage(mtcMessage({ signature: Signature.workerMsg, cmd: MtcCmd.MTC_MSG_MTCALIVE, buf: "{nope" }));
  for (let i = 0; i < 20; i++) {
    await stranger.send(Buffer.alloc(10, 1), s.ports.agentMgmt);
    await stranger.send(Buffer.alloc(2000, 2), s.ports.agentMgmt);
    await stranger.send(badSig, s.ports.agentMgmt);
    await stranger.send(unknown, s.ports.agentMgmt);
    await stranger.send(badJson, s.ports.agentMgmt);
    await stranger.send('{"hostname":', s.ports.agentMgmt);
  }
  await s.mgmt.send(s.alive("Mgmnt", 1), s.ports.agentMgmt);
  await until(() => s.got.length === 1);
  t.is(s.messaging.inbox.stats.dropped, 120);
  const drops = s.lines.filter((l) => l.msg === "mtcAgent inbox dropped a datagram");
  t.true(drops.length >= 6 && drops.length <= 8, `one line per kind of drop, got ${drops.length}`);
  const reasons = drops.map((l) => String(l.reason)).join("\n");
  t.regex(reasons, /short datagram/);
  t.regex(reasons, /oversized datagram/);
  t.regex(reasons, /unexpected signature/);
  t.regex(reasons, /unknown host 'ghost'/);
  t.regex(reasons, /bad JSON/);
});

test("sequence monitoring logs missed and out-of-sequence mtcAlives", async (t) => {
  const s = await setup(t);
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP });
  for (const seq of [1, 2, 6]) await s.mgmt.send(s.alive("Mgmnt", seq), s.ports.agentMgmt);
  await until(() => s.got.length === 3);
  t.truthy(s.lines.find((l) => l.msg === "missed 3 mtcAlive msgs"));
  await s.clstr.send(s.alive("Clstr", 10), s.ports.agentClstr);
  await s.clstr.send(s.alive("Clstr", 5), s.ports.agentClstr);
  await until(() => s.got.length === 5);
  t.truthy(s.lines.find((l) => l.msg === "mtcAlive out-of-sequence; correcting" && l.expected === 11));
});

test("a locked host reporting unlocked gets LOCKED; an unlocked host reporting locked gets UNLOCKED", async (t) => {
  const s = await setup(t);
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP, mgmtMac: MAC, administrative: "locked" });
  await s.mgmt.send(s.alive("Mgmnt", 1, MtcFlag.I_AM_LOCKED), s.ports.agentMgmt);
  await until(() => s.got.length === 1);
  await s.mgmt.send(s.alive("Mgmnt", 2, 0), s.ports.agentMgmt);
  const req = await s.mgmt.waitFor(() => true);
  const d = decodeMtcMessage(req.data);
  t.true(d.ok && d.msg.cmd === MtcCmd.MTC_MSG_LOCKED, "LOCKED re-asserted");
  t.is(s.mgmt.received.length, 1, "nothing was sent while the flag agreed");
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP, administrative: "unlocked" });
  await new Promise((r) => setTimeout(r, 1_050)); // the audit sends at most once a second per host
  await s.mgmt.send(s.alive("Mgmnt", 3, MtcFlag.I_AM_LOCKED), s.ports.agentMgmt);
  const req2 = await s.mgmt.waitFor((x) => x !== req);
  const d2 = decodeMtcMessage(req2.data);
  t.true(d2.ok && d2.msg.cmd === MtcCmd.MTC_MSG_UNLOCKED && d2.msg.mac === MAC);
});

test("goenabled results, host services results and the ready event are attributed to the host", async (t) => {
  const s = await setup(t);
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP });
  await s.mgmt.send(
    encodeMtcMessage(mtcMessage({ signature: Signature.workerMsg, cmd: MtcCmd.MTC_MSG_MAIN_GOENABLED_FAILED, buf: "check-disk.sh (rc:3)" })),
    s.ports.agentMgmt,
  );
  await s.mgmt.send(encodeMtcMessage(mtcMessage({ signature: Signature.workerMsg, cmd: MtcCmd.MTC_MSG_MAIN_GOENABLED })), s.ports.agentMgmt);
  await s.mgmt.send(
    encodeMtcMessage(
      mtcMessage({ signature: Signature.cmdRsp, cmd: MtcCmd.MTC_CMD_HOST_SVCS_RESULT, num: 1, parm: [1, 0, 0, 0, 0], buf: "mtcTest failed (rc:1)" }),
    ),
    s.ports.agentMgmt,
  );
  await s.mgmt.send(
    encodeMtcMessage(
      mtcMessage({
        signature: Signature.event,
        cmd: MtcEvent.MTC_EVENT_MONITOR_READY,
        ver: 2,
        buf: JSON.stringify({ hostname: "worker-1", service: "mtcClient", features: ["pxeboot_mtcAlive"] }),
      }),
    ),
    s.ports.agentMgmt,
  );
  await until(() => s.got.length === 4);
  t.deepEqual(s.got[0], { kind: "goenabled", hostname: "worker-1", subfunction: false, passed: false, text: "check-disk.sh (rc:3)" });
  t.like(s.got[1], { kind: "goenabled", passed: true });
  t.like(s.got[2], { kind: "hostServicesResult", rc: 1, text: "mtcTest failed (rc:1)" });
  t.like(s.got[3], { kind: "monitorReady", service: "mtcClient" });
  t.true(s.messaging.host("worker-1")?.pxebootFeature);
  const echo = await s.mgmt.waitFor(() => true);
  const d = decodeMtcMessage(echo.data);
  t.true(d.ok && d.msg.signature === Signature.repMsg && d.msg.cmd === MtcCmd.MTC_MSG_MAIN_GOENABLED, "the pass is echoed");
});

test("the pxeboot monitor only checks hosts whose client advertised pxeboot_mtcAlive (virtual time)", async (t) => {
  const clock = new VirtualClock();
  const s = await setup(t, clock, { pxebootMonitorPeriodMs: 1000 });
  s.messaging.setHost({ hostname: "worker-1", mgmtIp: HOST_IP, mgmtMac: MAC });
  s.messaging.watchPxeboot("worker-1", true);
  await clock.advance(30_000);
  t.deepEqual(s.alarms.active(), [], "no feature advertised: never checked, never alarmed");
  const ready = (features: string[]) =>
    encodeMtcMessage(
      mtcMessage({
        signature: Signature.event,
        cmd: MtcEvent.MTC_EVENT_MONITOR_READY,
        ver: 2,
        buf: JSON.stringify({ hostname: "worker-1", service: "mtcClient", features }),
      }),
    );
  await s.mgmt.send(ready(["pxeboot_mtcAlive"]), s.ports.agentMgmt);
  await until(() => s.messaging.host("worker-1")?.pxebootFeature === true, 15_000); // real I/O; virtual time stands still
  t.true(s.messaging.host("worker-1")?.pxebootFeature);
  await clock.advance(13_000);
  t.like(s.alarms.active()[0], { id: "200.003", hostname: "worker-1", severity: "minor" });
  s.messaging.watchPxeboot("worker-1", false);
  t.deepEqual(s.alarms.active(), [], "unwatched (e.g. locked): cleared");
});
