/**
 * hbsAgent x2, hbsClient x5 and the mtcAgent's heartbeat control over real UDP on loopback (unicast fan-out,
 * distinct 127.0.66.x / 127.0.67.x addresses for the management and cluster-host networks, ephemeral ports).
 * The multicast path and real link cuts are in test/src/heartbeat-netns.test.ts.
 */
import { createSocket } from "node:dgram";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import type { HeartbeatEvent } from "../src/agent/ports.js";
import { SystemClock } from "../src/clock/system-clock.js";
import { defaultConfig, type MetalConfig } from "../src/config/index.js";
import { HbsAgent } from "../src/heartbeat/hbs-agent.js";
import { HbsClient } from "../src/heartbeat/hbs-client.js";
import { UdpHeartbeatControl } from "../src/heartbeat/heartbeat-control.js";
import { MtcalarmRelay } from "../src/heartbeat/mtcalarm-relay.js";
import { queryCluster, smRequest } from "../src/heartbeat/sm-query.js";
import { silentLogger } from "../src/logging/logger.js";
import { historyInOrder } from "../src/wire/cluster-vault.js";
import { encodePulse, withController } from "../src/wire/hbs-pulse.js";

async function freePort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "0.0.0.0", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor(what: string, pred: () => boolean, limitMs = 15_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const HOSTS = [
  { hostname: "controller-0", last: 1, nodeType: 1 },
  { hostname: "controller-1", last: 2, nodeType: 1 },
  { hostname: "worker-0", last: 10, nodeType: 2 },
  { hostname: "worker-1", last: 11, nodeType: 2 },
  { hostname: "worker-2", last: 12, nodeType: 2 },
];
const mgmt = (last: number) => `127.0.66.${last}`;
const clstr = (last: number) => `127.0.67.${last}`;

test.serial("two hbsAgents, five hbsClients and the mtcAgent control over loopback UDP", async (t) => {
  const clock = new SystemClock();
  const logger = silentLogger();
  const ports = {
    hbsAgentMgmt: await freePort(),
    hbsAgentClstr: await freePort(),
    hbsClientMgmt: await freePort(),
    hbsClientClstr: await freePort(),
    hbsCmd: await freePort(),
    hbsEvent: await freePort(),
    agentMgmt: await freePort(),
  };
  const smPorts = [
    { smServer: await freePort(), smClient: await freePort() },
    { smServer: await freePort(), smClient: await freePort() },
  ];
  const roots = HOSTS.map((h) => mkdtempSync(join(tmpdir(), `metal-hb-${h.hostname}-`)));
  const cfgFor = (h: (typeof HOSTS)[number], extra: Partial<MetalConfig["heartbeat"]> = {}, sm = smPorts[0]!): MetalConfig =>
    defaultConfig({
      node: { hostname: h.hostname, subfunctions: [h.nodeType === 1 ? "controller" : "worker"] },
      networks: { mgmt: { address: mgmt(h.last), controller: "127.0.66.100" }, clusterHost: { address: clstr(h.last) } },
      ports: { ...ports, ...sm },
      heartbeat: { mode: "unicast", clientPmondFlag: "always", ...extra },
      root: roots[HOSTS.indexOf(h)]!,
    });

  const alarms = [new MtcalarmRelay(clock), new MtcalarmRelay(clock)];
  const agents = [0, 1].map((i) => new HbsAgent({ config: cfgFor(HOSTS[i]!, {}, smPorts[i]), clock, logger, alarms: alarms[i]! }));
  const clients = new Map<string, HbsClient>();
  const startClient = async (h: (typeof HOSTS)[number]) => {
    // worker-2 runs no pmond: its responses never carry PMOND_FLAG.
    const c = new HbsClient({ config: cfgFor(h, { clientPmondFlag: h.hostname === "worker-2" ? "never" : "always" }), clock, logger });
    await c.start();
    clients.set(h.hostname, c);
  };
  const control = new UdpHeartbeatControl({
    agents: [
      { hostname: "controller-0", address: mgmt(1) },
      { hostname: "controller-1", address: mgmt(2) },
    ],
    cmdPort: ports.hbsCmd,
    eventAddress: "127.0.66.100",
    eventPort: ports.hbsEvent,
    hostname: "controller-0",
    clock,
    logger,
  });
  const events: HeartbeatEvent[] = [];
  control.onEvent((e) => events.push(e));
  t.teardown(async () => {
    for (const a of agents) await a.stop();
    for (const c of clients.values()) await c.stop();
    await control.stop();
  });

  await control.start();
  for (const a of agents) await a.start();
  for (const h of HOSTS) await startClient(h);
  await waitFor("the ready events of both agents", () => new Set(events.filter((e) => e.kind === "ready").map((e) => e.from)).size === 2);

  control.activeController("controller-0");
  for (const h of HOSTS) control.addHost({ hostname: h.hostname, mgmtIp: mgmt(h.last), clusterHostIp: clstr(h.last), nodeType: h.nodeType });
  for (const h of HOSTS) control.startHost(h.hostname);

  // Both controllers' views, on both networks, in both vaults (the peer's arrives through the clients).
  await waitFor("four histories in both vaults", () => agents.every((a) => a.clusterVault().histories.length === 4));
  await waitFor("a full healthy picture", () =>
    agents.every((a) =>
      a
        .clusterVault()
        .histories.filter((h) => h.controller === a.controller)
        .every((h) => historyInOrder(h).at(-1)?.hostsResponding === 4),
    ),
  );
  t.true(agents[0]!.isActive);
  t.false(agents[1]!.isActive);

  // The SM query returns the binary vault with the reqid; both controllers report 4 monitored hosts each.
  const vault0 = await queryCluster({ serverPort: smPorts[0]!.smServer, clientPort: smPorts[0]!.smClient, reqid: 4242 });
  t.is(vault0.reqid, 4242);
  t.is(vault0.periodMs, 100);
  t.deepEqual(vault0.histories.map((h) => `${h.controller}:${h.network}`).sort(), ["0:0", "0:1", "1:0", "1:1"]);

  // No SM heartbeat (reqid 0) for more than 800 ms marks the history; SM heartbeats every 200 ms clear it.
  const ownSmFail = () =>
    agents[0]!
      .clusterVault()
      .histories.filter((h) => h.controller === 0)
      .every((h) => h.smHeartbeatFail);
  await waitFor("the SM heartbeat loss marked (no SM running)", ownSmFail);
  const sm = createSocket("udp4");
  const beat = setInterval(() => sm.send(smRequest(0), smPorts[0]!.smServer, "127.0.0.1"), 200);
  try {
    await waitFor("the SM heartbeat seen", () =>
      agents[0]!
        .clusterVault()
        .histories.filter((h) => h.controller === 0)
        .every((h) => !h.smHeartbeatFail),
    );
  } finally {
    clearInterval(beat);
    sm.close();
  }
  await waitFor("the SM heartbeat loss marked again", () =>
    agents[0]!
      .clusterVault()
      .histories.filter((h) => h.controller === 0)
      .every((h) => h.smHeartbeatFail),
  );

  // Cut worker-1: loss on both networks, from controller-0 only, with the critical alarms.
  const t0 = events.length;
  await clients.get("worker-1")!.stop();
  const lossOn = (n: string) => () => events.slice(t0).some((e) => e.kind === "loss" && e.hostname === "worker-1" && e.network === n);
  await waitFor("worker-1 loss on mgmt", lossOn("mgmt"));
  await waitFor("worker-1 loss on cluster-host", lossOn("clusterHost"));
  const cut = events.slice(t0).filter((e) => e.hostname === "worker-1");
  t.true(
    cut.every((e) => e.from === "controller-0"),
    "events only from the active controller",
  );
  t.deepEqual(
    cut.filter((e) => e.network === "mgmt").map((e) => e.kind),
    ["minorSet", "degradeSet", "loss"],
  );
  t.deepEqual(
    cut.filter((e) => e.network === "clusterHost").map((e) => e.kind),
    ["degradeSet", "loss"],
  );
  const active = alarms[0]!.active().filter((a) => a.hostname === "worker-1");
  t.deepEqual(active.map((a) => `${a.id} ${a.severity} ${a.entity}`).sort(), ["200.005 critical Management", "200.009 critical Cluster-host"]);
  t.is(alarms[1]!.active().length, 0, "the inactive controller raises no alarm");
  await waitFor("the vault showing a silent host", () =>
    agents.every((a) =>
      a
        .clusterVault()
        .histories.filter((h) => h.controller === a.controller)
        .every((h) => historyInOrder(h).at(-1)?.hostsResponding === 3),
    ),
  );

  // Heal: 10 pulses in a row, then the clears.
  const t1 = events.length;
  await startClient(HOSTS[3]!);
  await waitFor(
    "worker-1 degrade clear on both networks",
    () => events.slice(t1).filter((e) => e.kind === "degradeClear" && e.hostname === "worker-1").length === 2,
  );
  t.deepEqual(
    events
      .slice(t1)
      .filter((e) => e.hostname === "worker-1")
      .map((e) => `${e.kind}/${e.network}`)
      .sort(),
    ["degradeClear/clusterHost", "degradeClear/mgmt", "minorClear/mgmt"],
  );
  await waitFor("worker-1 alarms cleared", () => alarms[0]!.active().every((a) => a.hostname !== "worker-1"));

  // Bad input: garbage, a request instead of a response, wrong controller bits, hostile commands and SM requests.
  const badBefore = agents[0]!.stats.badDatagrams;
  const forger = createSocket("udp4");
  await new Promise<void>((r) => forger.bind(0, mgmt(10), () => r()));
  const send = (data: Buffer, port: number, addr = mgmt(1)) => new Promise<void>((r) => forger.send(data, port, addr, () => r()));
  await send(Buffer.from("garbage"), ports.hbsAgentMgmt);
  await send(encodePulse({ kind: "req", host: "", seq: 1, rri: 0, flags: 0, version: 1 }), ports.hbsAgentMgmt);
  const wrongVault = encodePulse({ kind: "rsp", host: "worker-0", seq: 1, rri: 0, flags: 0, version: 1, cluster: vault0 });
  wrongVault.writeUInt16LE(999, 63 + 8);
  await send(wrongVault, ports.hbsAgentMgmt);
  await send(Buffer.alloc(2000, 0x41), ports.hbsCmd);
  await send(Buffer.from('{"origin":"sm","service":"heartbeat","request":"cluster_info","reqid":"x"}'), smPorts[0]!.smServer, "127.0.0.1");
  // A response for controller-1 reaching controller-0 is not controller-0's business: ignored, not counted bad.
  await send(encodePulse({ kind: "rsp", host: "worker-0", seq: 1, rri: 0, flags: withController(0, 1), version: 1 }), ports.hbsAgentMgmt);
  await waitFor("the bad datagrams counted", () => agents[0]!.stats.badDatagrams - badBefore === 5);
  forger.close();
  t.is(events.slice(t1).filter((e) => e.hostname === "worker-0").length, 0, "worker-0 untouched by the forged pulses");

  // MNFA backoff and recover: the period (and the vault's period_msec) x4 and back.
  control.backoff();
  await waitFor("the backed-off period", () => agents.every((a) => a.periodMs === 400 && a.clusterVault().periodMs === 400));
  control.recover();
  await waitFor("the recovered period", () => agents.every((a) => a.periodMs === 100 && a.clusterVault().periodMs === 100));

  // worker-2 never reports pmond: after more than 100 responses, the pmond event and alarm 200.006.
  await waitFor("the pmond raise for worker-2", () => events.some((e) => e.kind === "pmondRaise" && e.hostname === "worker-2"), 30_000);
  t.truthy(alarms[0]!.active().find((a) => a.id === "200.006" && a.hostname === "worker-2" && a.entity === "pmond"));
  t.false(events.some((e) => e.kind === "pmondRaise" && e.hostname !== "worker-2"));

  // controller-1 locked (/var/run/.node_locked): its history is cleared and stays frozen; unlocked, it comes back.
  const locked = join(roots[1]!, "var/run/.node_locked");
  mkdirSync(join(roots[1]!, "var/run"), { recursive: true });
  writeFileSync(locked, "");
  const own1 = () => agents[1]!.clusterVault().histories.filter((h) => h.controller === 1);
  await waitFor("controller-1's history cleared while locked", () => own1().length === 0);
  await new Promise((r) => setTimeout(r, 500));
  t.is(own1().length, 0, "frozen: nothing appended while locked");
  rmSync(locked);
  await waitFor("controller-1's history back after unlock", () => own1().length === 2);

  // A stopped host is no longer expected; a deleted host's alarms are gone.
  control.stopHost("worker-2");
  await waitFor("worker-2 alarms cleared on stop", () => !alarms[0]!.active().some((a) => a.hostname === "worker-2"));
  t.false(
    events.some((e) => e.kind !== "ready" && e.kind !== "pmondRaise" && (e.hostname === "worker-0" || e.hostname.startsWith("controller"))),
    "no false misses",
  );
});
