import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import { HttpServiceManager } from "../src/fsm/service-manager.js";
import { Rig } from "./support/agent-rig.js";

const MIN = 60_000;

async function rig(o: ConstructorParameters<typeof Rig>[0] = {}) {
  const r = new Rig(o);
  await r.agent.start();
  return r;
}

async function enabled(r: Rig, name: string) {
  r.host(name, { administrative: "unlocked" });
  if (!(await r.until(() => r.state(name) === "unlocked-enabled-available", 10 * MIN))) throw new Error(`${name}: ${r.state(name)}`);
}

test("offline/online detection of a locked host: silent for three windows → offline; mtcAlive again → online", async (t) => {
  const r = await rig();
  r.host("worker-0");
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-online" && r.get("worker-0").action === "none", 5 * MIN));
  r.fabric.kill("worker-0");
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-offline", MIN), r.state("worker-0"));
  r.fabric.revive("worker-0");
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-online", 2 * MIN), r.state("worker-0"));
  t.true(r.fabric.host("worker-0").nodeLocked, "the online windows re-assert LOCKED after the boot");
  await r.stop();
});

test("degrade from the degrade mask: heartbeat degrade set → degraded, clear → available", async (t) => {
  const r = await rig();
  await enabled(r, "worker-0");
  r.fabric.emitHeartbeat("degradeSet", "worker-0", "clusterHost");
  await r.clock.advance(1_000);
  t.is(r.state("worker-0"), "unlocked-enabled-degraded");
  t.is(r.get("worker-0").degradeMask & 0x2, 0x2);
  r.fabric.emitHeartbeat("degradeClear", "worker-0", "clusterHost");
  await r.clock.advance(1_000);
  t.is(r.state("worker-0"), "unlocked-enabled-available");
  r.fabric.emitHeartbeat("pmondRaise", "worker-0");
  await r.clock.advance(1_000);
  t.is(r.state("worker-0"), "unlocked-enabled-degraded");
  t.is(r.alarm("200.006", "worker-0"), undefined, "the pmond alarm carries the process entity");
  t.true(r.agent.alarms.isActive("200.006", "worker-0", "process=pmond"));
  r.fabric.emitHeartbeat("pmondClear", "worker-0");
  await r.clock.advance(1_000);
  t.is(r.state("worker-0"), "unlocked-enabled-available");
  await r.stop();
});

test("reset progression: the BMC reset is cancelled when the host comes back by itself", async (t) => {
  const r = await rig();
  r.host("worker-0", { administrative: "unlocked", bmc: true });
  const h = r.fabric.host("worker-0");
  h.ackCommands = false;
  h.bootedAt = r.clock.now() - 3_600_000; // up for an hour: its mtcAlives alone do not cancel the reset
  // No ACK to five reboot requests: the progression waits bmc_reset_delay before the BMC reset ...
  t.true(await r.until(() => h.attempts.filter((c) => c === "reboot").length === 5, 5 * MIN));
  await r.clock.advance(15_000);
  t.is(r.get("worker-0").stage, "RESET_PROGRESSION");
  // ... and the host reboots on its own meanwhile (a kdump, say) and reports on every network with a fresh uptime.
  h.ackCommands = true;
  r.fabric.kill("worker-0");
  r.fabric.revive("worker-0");
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 20 * MIN), r.state("worker-0"));
  t.deepEqual(r.bmcFabric.machine("10.0.0.1").actions, [], "no BMC reset was issued");
  await r.stop();
});

test("self-unlock: the active controller unlocks itself by a lazy reboot", async (t) => {
  const r = await rig();
  r.host("controller-0", { personality: "controller" });
  t.true(await r.until(() => r.get("controller-0").action === "none", 5 * MIN));
  t.deepEqual(r.agent.action("controller-0", "unlock"), { ok: true, queued: false });
  t.true(await r.until(() => r.fabric.host("controller-0").commands.includes("lazyReboot"), MIN));
  t.is(r.state("controller-0"), "unlocked-disabled-offline");
  t.is(r.get("controller-0").task, "Unlocking, please stand-by while the system gracefully reboots");
  t.false(r.fabric.host("controller-0").nodeLockedPersist, "UNLOCKED removed the persistent node-locked file first");
  await r.stop();
});

test("an unlocked host found powered off is powered on through its BMC", async (t) => {
  const r = await rig();
  r.host("worker-0", { administrative: "unlocked", bmc: true });
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 10 * MIN));
  const ctx = r.agent.ctx("worker-0");
  if (!ctx) throw new Error("no ctx");
  ctx.setState({ oper: "disabled", avail: "power-off" });
  r.bmcFabric.machine("10.0.0.1").power = "off";
  t.true(await r.until(() => r.bmcFabric.machine("10.0.0.1").actions.includes("on"), 5 * MIN));
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 20 * MIN), r.state("worker-0"));
  await r.stop();
});

test("dead office recovery: graceful recovery sends no in-line reboot while DOR is active", async (t) => {
  const r = await rig({ uptimeS: 30 });
  await enabled(r, "worker-0");
  const reboots = () => r.fabric.host("worker-0").commands.filter((c) => c === "reboot").length;
  const before = reboots();
  r.fabric.kill("worker-0");
  t.true(await r.until(() => r.get("worker-0").task === "Graceful Recovery Wait", 2 * MIN), r.get("worker-0").task);
  t.is(reboots(), before);
  r.fabric.revive("worker-0");
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 30 * MIN), r.state("worker-0"));
  await r.stop();
});

test("HttpServiceManager speaks SM's REST API: PATCH /v1/servicenode/<host>, GET for the query, errors with the status", async (t) => {
  const calls: Array<{ method: string; url: string; body: unknown }> = [];
  let active = true;
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (d: Buffer) => {
      text += d.toString();
    });
    req.on("end", () => {
      calls.push({ method: req.method ?? "", url: req.url ?? "", body: text ? JSON.parse(text) : undefined });
      if (req.url?.includes("broken")) {
        res.writeHead(500).end("boom");
        return;
      }
      if (req.method === "PATCH" && text.includes('"swact"')) active = false;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ hostname: "controller-0", state: active ? "active" : "standby" }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => server.close());
  const sm = new HttpServiceManager(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.deepEqual(await sm.query("controller-0"), { activeServices: true });
  await sm.notify("controller-1", "locked", { admin: "locked", oper: "disabled", avail: "online" });
  await sm.swact("controller-0");
  t.deepEqual(await sm.query("controller-0"), { activeServices: false });
  t.deepEqual(calls[1], {
    method: "PATCH",
    url: "/v1/servicenode/controller-1",
    body: { origin: "mtce", hostname: "controller-1", action: "lock", admin: "locked", oper: "disabled", avail: "online" },
  });
  t.like(calls[2], { method: "PATCH", body: { action: "swact" } });
  await t.throwsAsync(sm.query("broken"), { message: /HTTP 500/ });
});

test("critical-sensor power-cycle: off, 5 min cool-off countdown, on, back; after 3 cycles the host is left powered down", async (t) => {
  const r = await rig();
  r.host("worker-0", { administrative: "unlocked", bmc: true });
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 10 * MIN));
  const m = r.bmcFabric.machine("10.0.0.1");
  r.fabric.emitEvent("worker-0", 0x11110009);
  t.true(await r.until(() => /power-on in 5 minutes/.test(r.get("worker-0").task), MIN), r.get("worker-0").task);
  t.is(m.power, "off");
  t.is(r.state("worker-0"), "unlocked-disabled-power-off");
  t.true(await r.until(() => /power-on in 1 minute$/.test(r.get("worker-0").task), 6 * MIN), r.get("worker-0").task);
  t.true(await r.until(() => m.power === "on", 2 * MIN));
  // Handed back after the hold-off: an unlocked host is enabled again (full enable).
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 40 * MIN), r.state("worker-0"));
  for (let i = 2; i <= 3; i++) {
    r.fabric.emitEvent("worker-0", 0x11110009);
    t.true(await r.until(() => r.get("worker-0").action === "powercycle", MIN));
    t.true(
      await r.until(() => r.state("worker-0") === "unlocked-enabled-available" && r.get("worker-0").action === "none", 40 * MIN),
      `cycle ${i}: ${r.state("worker-0")}`,
    );
  }
  r.fabric.emitEvent("worker-0", 0x11110009);
  t.true(await r.until(() => r.get("worker-0").task === "Critical Event Power-Down ; due to persistent critical sensor", MIN), r.get("worker-0").task);
  await r.clock.advance(5_000);
  t.deepEqual(m.actions, ["off", "on", "off", "on", "off", "on", "off"]);
  t.is(r.state("worker-0"), "unlocked-disabled-power-off");
  // The active controller is never power-cycled.
  r.host("controller-0", { personality: "controller" });
  t.true(await r.until(() => r.get("controller-0").action === "none", 5 * MIN));
  r.fabric.emitEvent("controller-0", 0x11110009);
  await r.clock.advance(5_000);
  t.is(r.get("controller-0").action, "none");
  await r.stop();
});

test("BMC access monitoring: unreachable for 2 minutes → 200.010 warning; reachable again → cleared", async (t) => {
  const r = await rig();
  r.host("worker-0", { bmc: true });
  t.true(await r.until(() => r.get("worker-0").action === "none", 5 * MIN));
  const m = r.bmcFabric.machine("10.0.0.1");
  m.unreachable = true;
  await r.clock.advance(60_000);
  t.is(r.alarm("200.010", "worker-0"), undefined, "not before the alarm delay");
  t.true(await r.until(() => r.alarm("200.010", "worker-0") === "warning", 5 * MIN));
  m.unreachable = false;
  t.true(await r.until(() => r.alarm("200.010", "worker-0") === undefined, 5 * MIN));
  await r.stop();
});

test("hwmon runs for every BMC with sensors: a critical fan → 200.007; its power-cycle action → the power-cycle handler", async (t) => {
  const r = await rig({ config: { hwmon: { actions: { critical: "power-cycle" } } } });
  r.host("worker-0", { administrative: "unlocked", bmc: true });
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 10 * MIN));
  const m = r.bmcFabric.machine("10.0.0.1");
  const fan = m.sensors.find((s) => s.name === "Fan_1");
  if (!fan) throw new Error("no fan");
  fan.value = 300;
  fan.status = "cr";
  t.true(await r.until(() => r.agent.alarms.active().some((a) => a.id === "200.007" && a.hostname === "worker-0"), 10 * MIN));
  t.true(await r.until(() => r.get("worker-0").action === "powercycle", 10 * MIN), r.get("worker-0").action);
  t.true(await r.until(() => m.actions.includes("off"), 5 * MIN));
  await r.stop();
});
