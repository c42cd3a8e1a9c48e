/**
 * Maintenance's power handler through the IPMI plugin against a real BMC (OpenIPMI's ipmi_sim + ipmitool):
 * the FSMs reach the BMC only through the plugin contract and the per-BMC broker.
 */
import { MtcAgent } from "@metal/core/agent/mtc-agent";
import type { HeartbeatControl, HostMessaging } from "@metal/core/agent/ports";
import { DefaultAlarmManager } from "@metal/core/alarms/manager";
import { ScaledClock } from "@metal/core/clock/index";
import { defaultConfig } from "@metal/core/config/index";
import { DefaultBmcRegistry } from "@metal/core/di/bmc-registry";
import { secretFromString } from "@metal/core/di/secret";
import { MemoryInventoryStore } from "@metal/core/inventory/file-store";
import { silentLogger } from "@metal/core/logging/logger";
import { ipmiFactory } from "@metal/plugin-ipmi";
import { IpmiSim } from "@metal/plugin-ipmi/testing/ipmi-sim";
import test from "ava";

const noop = () => undefined;
/** No host answers (the host is a powered-off machine); the power handler needs only its BMC. */
const messaging: HostMessaging = {
  command: async (host, cmd, o) => {
    if (o?.expectAck === false) return undefined;
    throw new Error(`${host}: no ACK for ${cmd}`);
  },
  onMessage: () => noop,
};
const heartbeat: HeartbeatControl = {
  addHost: noop,
  delHost: noop,
  startHost: noop,
  stopHost: noop,
  backoff: noop,
  recover: noop,
  activeController: noop,
  onEvent: () => noop,
};

async function until(pred: () => boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

test("power-on / power-off of a locked host through ipmitool and ipmi_sim; an unreachable BMC fails the action and raises 200.010", async (t) => {
  const sim = await IpmiSim.start();
  t.teardown(() => sim.stop());
  const clock = new ScaledClock(20);
  const log = silentLogger();
  const registry = new DefaultBmcRegistry();
  registry.register(ipmiFactory({ clock }), "@metal/plugin-ipmi");
  const alarms = new DefaultAlarmManager({ clock, log, sinks: [] });
  const config = defaultConfig({
    root: "/nonexistent-metal-root",
    maintenance: { tickMs: 1000 },
    // ipmitool gives up on a silent BMC after 3 s (real time).
    bmc: { ratePerSec: 50, burst: 10, timeout: 3 },
  });
  const agent = new MtcAgent({
    config,
    clock,
    log,
    messaging,
    heartbeat,
    alarms,
    store: new MemoryInventoryStore(),
    bmcRegistry: registry,
    resolveSecret: () => secretFromString(sim.password),
    controllerUptimeS: 100_000,
  });
  await agent.start();
  t.teardown(() => agent.stop());
  const added = agent.addHost({
    hostname: "worker-7",
    personality: "worker",
    mgmtIp: "127.0.77.7",
    bmc: { type: "ipmi", address: "127.0.0.1", port: sim.port, username: sim.username, secretRef: "sim" },
  });
  t.true(added.ok);
  t.true(await until(() => agent.host("worker-7")?.action === "none", 30_000), "add handler done");

  t.deepEqual(agent.action("worker-7", "power-on"), { ok: true, queued: false });
  t.true(await until(() => agent.host("worker-7")?.task === "Power-On Completed", 60_000), JSON.stringify(agent.host("worker-7")));
  t.true(sim.chassisLog().includes("power 1"), sim.chassisLog().join(","));
  t.deepEqual(agent.action("worker-7", "power-off"), { ok: true, queued: false });
  t.true(await until(() => agent.host("worker-7")?.task === "Power-Off Completed", 60_000), agent.host("worker-7")?.task);
  t.is(agent.host("worker-7")?.availability, "power-off");
  t.true(sim.chassisLog().includes("power 0"), sim.chassisLog().join(","));

  sim.pause();
  t.deepEqual(agent.action("worker-7", "power-on"), { ok: true, queued: false });
  t.true(await until(() => agent.host("worker-7")?.task === "Power-On Failed - BMC not accessible", 90_000), agent.host("worker-7")?.task);
  t.true(await until(() => alarms.isActive("200.010", "worker-7"), 30_000), "200.010 raised");
  sim.resume();
});
