/**
 * The hbsAgent ready event (reference §3.3) over real UDP on loopback: the mtcAgent comes up first with its
 * inventory and takes its hosts into service while no hbsAgent runs. An hbsAgent started afterwards (and one
 * restarted later) sends MTC_EVENT_HEARTBEAT_READY; the mtcAgent answers with ADD_HOST for every host and
 * START_HOST for the in-service ones, so the hbsAgent heartbeats them (its SM cluster vault shows them
 * monitored and responding) and a client that dies turns into a heartbeat loss the mtcAgent acts on.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { AgentMessaging } from "../src/agent/messaging.js";
import { createAlarmManager, MtcAgent } from "../src/agent/mtc-agent.js";
import type { HeartbeatEvent } from "../src/agent/ports.js";
import { SystemClock } from "../src/clock/system-clock.js";
import { defaultConfig } from "../src/config/index.js";
import { HbsAgent } from "../src/heartbeat/hbs-agent.js";
import { HbsClient } from "../src/heartbeat/hbs-client.js";
import { UdpHeartbeatControl } from "../src/heartbeat/heartbeat-control.js";
import { MtcalarmRelay } from "../src/heartbeat/mtcalarm-relay.js";
import { queryCluster } from "../src/heartbeat/sm-query.js";
import { FileInventoryStore } from "../src/inventory/file-store.js";
import { newHostRecord } from "../src/inventory/host.js";
import { silentLogger } from "../src/logging/logger.js";
import { UdpTransport } from "../src/transport/udp-transport.js";
import { historyInOrder } from "../src/wire/cluster-vault.js";
import { eventually } from "./helpers/client-process.js";
import { freeUdpPorts } from "./helpers/udp.js";

const FLOATING = "127.0.71.100";
const HOSTS = [
  { hostname: "controller-0", ip: "127.0.71.1", personality: "controller" as const },
  { hostname: "worker-0", ip: "127.0.71.10", personality: "worker" as const },
  { hostname: "worker-1", ip: "127.0.71.11", personality: "worker" as const },
];

test.serial("an hbsAgent started after the mtcAgent gets the inventory on its ready event and heartbeats it", async (t) => {
  const clock = new SystemClock();
  const log = silentLogger();
  const [hbsAgentMgmt, hbsClientMgmt, hbsCmd, hbsEvent, agentMgmt, smServer, smClient] = await freeUdpPorts(7);
  const ports = { hbsAgentMgmt, hbsClientMgmt, hbsCmd, hbsEvent, agentMgmt, smServer, smClient } as Record<string, number>;
  const dir = mkdtempSync(join(tmpdir(), "metal-hbs-ready-"));
  const stops: Array<() => Promise<void>> = [];
  t.teardown(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const cfgFor = (h: (typeof HOSTS)[number], address = h.ip) =>
    defaultConfig({
      root: join(dir, h.hostname),
      system: { type: "standard" },
      node: { hostname: h.hostname, subfunctions: [h.personality] },
      networks: { mgmt: { address, controller: FLOATING } },
      ports,
      heartbeat: { mode: "unicast", clientPmondFlag: "always", agents: [{ hostname: "controller-0", address: HOSTS[0]!.ip }] },
      timeouts: { hostAddDelay: 1, heartbeatSoak: 2, cmdResponse: 1 },
      messaging: { readyEventPeriodMs: 1000 },
      logging: { level: "warn" },
    });

  // The inventory as after an mtcAgent restart: every host unlocked-enabled-available. No mtcClient runs, so
  // the add handler's host-services start gets no ACK (1 s) and carries on.
  const agentCfg = cfgFor(HOSTS[0]!, FLOATING);
  const store = new FileInventoryStore({ stateDir: dir, hostsDir: join(dir, "mtc-agent-hosts") });
  for (const h of HOSTS) {
    const rec = newHostRecord({ hostname: h.hostname, personality: h.personality, mgmtIp: h.ip, administrative: "unlocked" });
    Object.assign(rec, { operational: "enabled", availability: "available", action: "none" });
    await store.save(rec);
  }

  // The workers' hbsClients (their ready events reach the mtcAgent's messaging, which gates the add soak).
  const clients = new Map<string, HbsClient>();
  for (const h of HOSTS.slice(1)) {
    const c = new HbsClient({ config: cfgFor(h), clock, logger: log });
    await c.start();
    clients.set(h.hostname, c);
    stops.push(() => c.stop());
  }

  const alarms = createAlarmManager(agentCfg, clock, log);
  const messaging = new AgentMessaging({ config: agentCfg, transport: new UdpTransport(), clock, logger: log, alarms });
  await messaging.start();
  stops.push(() => messaging.stop());
  const heartbeat = new UdpHeartbeatControl({
    agents: agentCfg.heartbeat.agents,
    cmdPort: hbsCmd!,
    eventAddress: FLOATING,
    eventPort: hbsEvent!,
    hostname: "controller-0",
    clock,
    logger: log,
  });
  await heartbeat.start();
  stops.push(() => heartbeat.stop());
  const events: HeartbeatEvent[] = [];
  heartbeat.onEvent((e) => events.push(e));
  const agent = new MtcAgent({ config: agentCfg, clock, log, messaging, heartbeat, alarms, store, directory: messaging, controllerUptimeS: 100_000 });
  await agent.start();
  stops.push(() => agent.stop());

  const inService = (name: string) => {
    const v = agent.host(name);
    return v?.action === "none" && v.operational === "enabled" && v.availability === "available";
  };
  t.true(await eventually(() => HOSTS.every((h) => inService(h.hostname)), 20_000), "every host back in service with no hbsAgent running");

  // Now the hbsAgent: it knows no host until the mtcAgent answers its ready event.
  const startHbsAgent = async () => {
    const a = new HbsAgent({ config: cfgFor(HOSTS[0]!), clock, logger: log, alarms: new MtcalarmRelay(clock) });
    await a.start();
    return a;
  };
  const monitoring = (a: HbsAgent, n: number) => () => {
    const own = a.clusterVault().histories.find((h) => h.controller === 0 && h.network === 0);
    const last = own ? historyInOrder(own).at(-1) : undefined;
    return last?.hostsEnabled === n && last.hostsResponding === n;
  };
  let hbs = await startHbsAgent();
  t.true(await eventually(monitoring(hbs, 2), 10_000), "the first hbsAgent heartbeats both workers");
  t.true(hbs.isActive, "told it is the active controller");
  const sent = heartbeat.sent.map((c) => (c.kind === "addHost" ? `add ${c.host.hostname} ${c.host.mgmtIp} ${c.host.nodeType}` : c.kind));
  for (const h of HOSTS) t.true(sent.includes(`add ${h.hostname} ${h.ip} ${h.personality === "controller" ? 1 : 2}`), `ADD_HOST ${h.hostname}`);

  // Restart the hbsAgent: the new one learns the hosts the same way, and the SM query shows them.
  await hbs.stop();
  hbs = await startHbsAgent();
  stops.push(() => hbs.stop());
  t.true(await eventually(monitoring(hbs, 2), 10_000), "the restarted hbsAgent heartbeats both workers");
  const vault = await queryCluster({ serverPort: smServer!, clientPort: smClient!, reqid: 77 });
  const own = vault.histories.find((h) => h.controller === 0 && h.network === 0);
  t.is(own && historyInOrder(own).at(-1)?.hostsResponding, 2);

  // A worker whose hbsClient dies: the restarted hbsAgent reports the loss and the mtcAgent fails the host.
  await clients.get("worker-1")!.stop();
  t.true(
    await eventually(() => events.some((e) => e.kind === "loss" && e.hostname === "worker-1"), 10_000),
    "heartbeat loss of worker-1 from the restarted hbsAgent",
  );
  t.true(await eventually(() => agent.host("worker-1")?.operational === "disabled", 10_000), "the mtcAgent takes worker-1 out of service");
  t.true(inService("worker-0"), "worker-0 untouched");
});
