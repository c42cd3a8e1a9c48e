/**
 * The multi-host heartbeat with real link cuts: network namespaces for controller-0, controller-1, storage-0
 * and three workers on a management and a cluster-host bridge, each running a real `metal hbs-client` process,
 * both controllers running `metal hbs-agent` (multicast pulses, as the reference). This test process plays the
 * mtcAgent (UdpHeartbeatControl on the management bridge) and mtcalarmd (it receives the alarm JSON).
 * Needs root; without it the test fails, it never skips.
 */
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HeartbeatEvent } from "@metal/core/agent/ports";
import { SystemClock } from "@metal/core/clock/index";
import { UdpHeartbeatControl } from "@metal/core/heartbeat/heartbeat-control";
import { silentLogger } from "@metal/core/logging/index";
import { MtcEvent } from "@metal/core/wire/mtc-codes";
import { decodeMtcMessage } from "@metal/core/wire/mtc-message";
import test from "ava";
import { NetnsLab, requireNetns } from "./netns-lab.js";
import { freeUdpPort as freePort, waitFor } from "./wait.js";

const main = fileURLToPath(new URL("../../packages/core/dist/src/cli/main.js", import.meta.url));

const HOSTS = [
  { hostname: "controller-0", octet: 1, nodeType: 1, subfunctions: ["controller"] },
  { hostname: "controller-1", octet: 2, nodeType: 1, subfunctions: ["controller"] },
  { hostname: "storage-0", octet: 3, nodeType: 4, subfunctions: ["storage"] },
  { hostname: "worker-0", octet: 10, nodeType: 2, subfunctions: ["worker"] },
  { hostname: "worker-1", octet: 11, nodeType: 2, subfunctions: ["worker"] },
  { hostname: "worker-2", octet: 12, nodeType: 2, subfunctions: ["worker"] },
];

interface AlarmMsg {
  alarmid: string;
  hostname: string;
  operation: string;
  severity: string;
  entity: string;
}

interface VaultJson {
  periodMs: number;
  storage0Enabled: boolean;
  rows: Array<{ controller: number; network: string; storage0Responding: boolean; entries: Array<{ enabled: number; responding: number }> }>;
}

test.serial("heartbeat across network namespaces: link cuts, alarms, MNFA backoff, both controllers' cluster views", async (t) => {
  requireNetns();
  const dir = mkdtempSync(join(tmpdir(), "metal-hb-netns-"));
  const lab = new NetnsLab(dir, { mgmt: "10.250", clusterHost: "10.251" });
  let control: UdpHeartbeatControl | undefined;
  let alarmSock: Socket | undefined;
  let readySock: Socket | undefined;
  try {
    lab.createBridges();
    for (const h of HOSTS) lab.addHost(h.hostname, h.octet);

    const eventPort = await freePort(lab.testIp);
    const alarmPort = await freePort(lab.testIp);
    const readyPort = await freePort(lab.testIp);
    const configs = new Map<string, string>();
    for (const h of HOSTS) {
      const host = lab.host(h.hostname);
      configs.set(
        h.hostname,
        lab.writeConfig(h.hostname, {
          root: join(dir, h.hostname),
          system: { type: "standard" },
          node: { hostname: h.hostname, subfunctions: h.subfunctions },
          networks: { mgmt: { address: host.mgmtIp, controller: lab.testIp }, clusterHost: { address: host.clusterHostIp } },
          ports: { hbsEvent: eventPort, mtcalarm: alarmPort, agentMgmt: readyPort },
          // A worker's cluster-host loss is a degrade here (clstr_degrade_only), so the cut below shows degrade only.
          heartbeat: { mode: "multicast", clientPmondFlag: "always", alarmAddress: lab.testIp, clusterHostDegradeOnly: true },
          logging: { level: "info" },
        }),
      );
    }

    // The test plays mtcalarmd and the mtcAgent, on the management bridge.
    const alarms: AlarmMsg[] = [];
    alarmSock = createSocket("udp4");
    const sock = alarmSock;
    await new Promise<void>((r) => sock.bind(alarmPort, lab.testIp, () => r()));
    sock.on("message", (data) => {
      const m = JSON.parse(data.toString()) as { mtcalarm: AlarmMsg[] };
      alarms.push(...m.mtcalarm);
    });
    // The hbsClients' MTC_EVENT_MONITOR_READY, as the mtcAgent's inbox receives it.
    const clientsReady = new Set<string>();
    readySock = createSocket("udp4");
    const rs = readySock;
    await new Promise<void>((r) => rs.bind(readyPort, lab.testIp, () => r()));
    rs.on("message", (data) => {
      const d = decodeMtcMessage(data);
      if (d.ok && d.msg.cmd === MtcEvent.MTC_EVENT_MONITOR_READY) clientsReady.add((JSON.parse(d.msg.buf) as { hostname: string }).hostname);
    });
    const clock = new SystemClock();
    control = new UdpHeartbeatControl({
      agents: [
        { hostname: "controller-0", address: lab.host("controller-0").mgmtIp },
        { hostname: "controller-1", address: lab.host("controller-1").mgmtIp },
      ],
      cmdPort: 2104,
      eventAddress: lab.testIp,
      eventPort,
      hostname: "controller-0",
      clock,
      logger: silentLogger(),
    });
    const events: HeartbeatEvent[] = [];
    control.onEvent((e) => events.push(e));
    await control.start();

    for (const h of HOSTS) lab.spawnIn(h.hostname, `${h.hostname}-client`, [process.execPath, main, "hbs-client", "--config", configs.get(h.hostname)!]);
    for (const c of ["controller-0", "controller-1"]) lab.spawnIn(c, `${c}-agent`, [process.execPath, main, "hbs-agent", "--config", configs.get(c)!]);

    const smQuery = (c: string): VaultJson =>
      JSON.parse(lab.execIn(c, [process.execPath, main, "hbs", "cluster", "--json", "--config", configs.get(c)!])) as VaultJson;
    const latest = (v: VaultJson) =>
      Object.fromEntries(v.rows.map((r) => [`controller-${r.controller} ${r.network}`, `${r.entries.at(-1)?.enabled}:${r.entries.at(-1)?.responding}`]));
    const eventsFor = (host: string, since: number) => events.slice(since).filter((e) => e.hostname === host && e.kind !== "ready");
    const alarmsFor = (host: string, since: number) =>
      alarms
        .slice(since)
        .filter((a) => a.hostname === host)
        .map((a) => `${a.alarmid} ${a.operation} ${a.severity} ${a.entity}`);

    try {
      await waitFor(
        "the ready events of both hbsAgents",
        () => new Set(events.filter((e) => e.kind === "ready").map((e) => e.from)).size === 2,
        120_000 /* includes the CLI processes' start-up under load */,
      );
    } catch (err) {
      t.log(lab.logTail("controller-0-agent"));
      throw err;
    }
    await waitFor(
      "the ready events of all six hbsClients",
      () => clientsReady.size === HOSTS.length,
      120_000 /* includes the CLI processes' start-up under load */,
    );
    control.activeController("controller-0");
    for (const h of HOSTS) {
      const host = lab.host(h.hostname);
      control.addHost({ hostname: h.hostname, mgmtIp: host.mgmtIp, clusterHostIp: host.clusterHostIp, nodeType: h.nodeType });
    }
    for (const h of HOSTS) control.startHost(h.hostname);

    // Healthy: each controller monitors the five other hosts, on both networks, and sees the peer's view.
    const healthy = {
      "controller-0 mgmt": "5:5",
      "controller-0 cluster-host": "5:5",
      "controller-1 mgmt": "5:5",
      "controller-1 cluster-host": "5:5",
    };
    await waitFor(
      "a healthy cluster in both vaults",
      () => ["controller-0", "controller-1"].every((c) => JSON.stringify(latest(smQuery(c))) === JSON.stringify(healthy)),
      30_000,
      500,
    );
    const v0 = smQuery("controller-0");
    t.is(v0.periodMs, 100);
    t.true(v0.storage0Enabled);
    t.true(v0.rows.filter((r) => r.controller === 0).every((r) => r.storage0Responding));
    // A loaded machine may stall a process past the 0.4 s minor threshold; a degrade or loss would be a real fault.
    t.deepEqual(
      events.filter((e) => e.kind === "degradeSet" || e.kind === "loss"),
      [],
      "no false degrade or loss while healthy",
    );

    // 1. Cut worker-0's cluster-host link: degrade on cluster-host only and alarm 200.009; heal clears.
    let e0 = events.length;
    let a0 = alarms.length;
    lab.link("worker-0", "clusterHost", "down");
    await waitFor("worker-0 cluster-host degrade", () => eventsFor("worker-0", e0).some((e) => e.kind === "degradeSet"));
    await waitFor("the critical cluster-host alarm", () => alarmsFor("worker-0", a0).includes("200.009 set critical Cluster-host"));
    t.deepEqual(
      eventsFor("worker-0", e0)
        .filter((e) => e.network === "clusterHost")
        .map((e) => `${e.kind}/${e.network}/${e.from}`),
      ["degradeSet/clusterHost/controller-0"],
    );
    t.deepEqual(alarmsFor("worker-0", a0), ["200.009 set major Cluster-host", "200.009 set critical Cluster-host"]);
    lab.link("worker-0", "clusterHost", "up");
    await waitFor("worker-0 cluster-host degrade clear", () => eventsFor("worker-0", e0).some((e) => e.kind === "degradeClear"));
    await waitFor("the cluster-host alarm clear", () => alarmsFor("worker-0", a0).includes("200.009 clear clear Cluster-host"));
    t.false(
      eventsFor("worker-0", e0).some((e) => e.network === "mgmt" && (e.kind === "degradeSet" || e.kind === "loss")),
      "no degrade or loss on the management network",
    );

    // 2. Cut worker-0's management link: minor, degrade, loss and 200.005; heal: 10 pulses, then the clears.
    e0 = events.length;
    a0 = alarms.length;
    lab.link("worker-0", "mgmt", "down");
    await waitFor("worker-0 management loss", () => eventsFor("worker-0", e0).some((e) => e.kind === "loss"));
    t.deepEqual(
      eventsFor("worker-0", e0)
        .filter((e) => e.kind.endsWith("Set") || e.kind === "loss")
        .map((e) => `${e.kind}/${e.network}`),
      ["minorSet/mgmt", "degradeSet/mgmt", "loss/mgmt"],
    );
    t.deepEqual(alarmsFor("worker-0", a0), ["200.005 set major Management", "200.005 set critical Management"]);
    // What the mtcAgent's graceful recovery does on the heartbeat side: restart the host's heartbeat.
    lab.link("worker-0", "mgmt", "up");
    control.restartHost("worker-0");
    await waitFor("worker-0 management recovery", () => eventsFor("worker-0", e0).some((e) => e.kind === "degradeClear" && e.network === "mgmt"));
    await waitFor("the management alarm clear", () => alarmsFor("worker-0", a0).includes("200.005 clear clear Management"));

    // 3. Cut three hosts at once: minor and degrade on all three (the MNFA trigger, threshold 2); the mtcAgent's
    //    BACKOFF multiplies the period by 4 on both controllers, RECOVER restores it.
    const three = ["worker-1", "worker-2", "storage-0"];
    e0 = events.length;
    for (const h of three) lab.link(h, "mgmt", "down");
    await waitFor("minor and degrade on three hosts", () =>
      three.every((h) => ["minorSet", "degradeSet"].every((k) => eventsFor(h, e0).some((e) => e.kind === k && e.network === "mgmt"))),
    );
    control.backoff();
    for (const h of three) lab.link(h, "mgmt", "up");
    await waitFor("the backed-off period on both controllers", () => ["controller-0", "controller-1"].every((c) => smQuery(c).periodMs === 400), 20_000, 300);
    await waitFor("the three hosts recovered", () => three.every((h) => eventsFor(h, e0).some((e) => e.kind === "degradeClear")), 30_000);
    control.recover();
    await waitFor("the recovered period on both controllers", () => ["controller-0", "controller-1"].every((c) => smQuery(c).periodMs === 100), 20_000, 300);
    t.true(
      three.every((h) => eventsFor(h, e0).some((e) => e.kind === "minorClear")),
      "minor cleared on all three",
    );

    // 4. Cut controller-1's management link: both controllers' cluster views show it, and an SM query to
    //    either returns the same picture (the peer's view travels in the cluster-host pulse responses).
    e0 = events.length;
    lab.link("controller-1", "mgmt", "down");
    const expected = {
      "controller-0 mgmt": "5:4",
      "controller-0 cluster-host": "5:5",
      "controller-1 mgmt": "5:0",
      "controller-1 cluster-host": "5:5",
    };
    let views: Array<Record<string, string>> = [];
    await waitFor(
      "both cluster views showing controller-1's management cut",
      () => {
        views = ["controller-0", "controller-1"].map((c) => latest(smQuery(c)));
        return views.every((v) => JSON.stringify(v) === JSON.stringify(expected));
      },
      30_000,
      300,
    );
    t.deepEqual(views[0], views[1]);
    await waitFor("controller-1 management loss", () => eventsFor("controller-1", e0).some((e) => e.kind === "loss" && e.network === "mgmt"));
    t.true(
      events.slice(e0).every((e) => e.from === "controller-0"),
      "only the active controller reports",
    );
    lab.link("controller-1", "mgmt", "up");
  } finally {
    await control?.stop();
    alarmSock?.close();
    readySock?.close();
    await lab.destroy();
    t.deepEqual(lab.leftovers(), [], "namespaces and bridges removed");
    rmSync(dir, { recursive: true, force: true });
  }
});
