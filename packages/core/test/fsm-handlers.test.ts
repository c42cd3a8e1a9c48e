import test from "ava";
import { toMermaid, validateHandler } from "../src/fsm/engine.js";
import { HANDLERS } from "../src/fsm/handlers.js";
import { AR_DISABLED_TASK } from "../src/inventory/host.js";
import { Rig } from "./support/agent-rig.js";

const MIN = 60_000;
type Opts = ConstructorParameters<typeof Rig>[0];

async function rig(o: Opts = {}) {
  const r = new Rig(o);
  await r.agent.start();
  return r;
}

/** A worker brought to unlocked-enabled-available. */
async function enabledWorker(name = "worker-0", o: Opts = {}, extra: Parameters<Rig["host"]>[1] = {}) {
  const r = await rig(o);
  r.host(name, { administrative: "unlocked", ...extra });
  if (!(await r.until(() => r.state(name) === "unlocked-enabled-available", 10 * MIN))) throw new Error(`${name} never enabled: ${r.state(name)}`);
  return r;
}

async function locked(name = "worker-0", extra: Parameters<Rig["host"]>[1] = {}) {
  const r = await rig();
  r.host(name, extra);
  if (!(await r.until(() => r.state(name) === "locked-disabled-online" && r.get(name).action === "none", 5 * MIN)))
    throw new Error(`${name}: ${r.state(name)}`);
  return r;
}

test("every handler's declared transitions name real stages, and each prints as Mermaid", (t) => {
  t.true(HANDLERS.size >= 12);
  for (const h of HANDLERS.values()) {
    t.deepEqual(validateHandler(h), [], h.name);
    const m = toMermaid(h);
    t.true(m.startsWith("stateDiagram-v2"));
    t.true(m.includes("[*] -->"), h.name);
    for (const s of h.stages) t.true(m.includes(s.name.replace(/[^A-Za-z0-9_]/g, "_")), `${h.name} ${s.name}`);
  }
});

interface EnableCase {
  name: string;
  setup(r: Rig): void;
  /** What the first enable attempt ends in. */
  expectTask: RegExp;
  cause?: string;
}

const enableFailures: EnableCase[] = [
  {
    name: "boot timeout (host never comes back after the reboot)",
    setup: (r) => {
      r.fabric.host("worker-0").bootMs = 60 * MIN;
    },
    expectTask: /Boot Failed, rebooting/,
  },
  {
    name: "goenabled failure",
    setup: (r) => {
      r.fabric.host("worker-0").goenabledPass = false;
    },
    expectTask: /In-Test Failed, re-enabling/,
    cause: "goenable",
  },
  {
    name: "configuration failure (unhealthy mtcAlive)",
    setup: (r) => {
      r.fabric.host("worker-0").healthy = false;
    },
    expectTask: /Configuration Failed, re-enabling/,
    cause: "config",
  },
  {
    name: "heartbeat failure during the soak",
    setup: (r) => {
      r.fabric.host("worker-0").answersHeartbeat = false;
    },
    expectTask: /Enable Heartbeat Failure, re-enabling/,
    cause: "heartbeat",
  },
];

for (const c of enableFailures) {
  test(`enable failure path: ${c.name}`, async (t) => {
    const r = await rig();
    r.host("worker-0", { administrative: "unlocked" });
    c.setup(r);
    const seen = await r.until(() => c.expectTask.test(r.get("worker-0").task), 40 * MIN);
    t.true(seen, `task was '${r.get("worker-0").task}' (${r.state("worker-0")})`);
    await r.clock.advance(1_000);
    t.is(r.alarm("200.004", "worker-0"), "critical");
    if (c.cause) {
      t.true(await r.until(() => r.state("worker-0") === "unlocked-disabled-failed", MIN));
      t.is(r.get("worker-0").autoRecovery?.[c.cause]?.count, 1);
    }
    await r.stop();
  });
}

test("auto-recovery threshold reached: after 3 goenabled failures the host stays failed with the ar-disabled task", async (t) => {
  const r = await rig();
  r.host("worker-0", { administrative: "unlocked" });
  r.fabric.host("worker-0").goenabledPass = false;
  t.true(await r.until(() => r.get("worker-0").task === AR_DISABLED_TASK.goenable, 60 * MIN), r.get("worker-0").task);
  t.is(r.state("worker-0"), "unlocked-disabled-failed");
  t.is(r.get("worker-0").action, "none");
  const attempts = r.fabric.host("worker-0").commands.filter((c) => c === "reqMainGoenabled").length;
  t.is(attempts, 3, "threshold 2 → the third failure disables auto-recovery");
  await r.clock.advance(30 * MIN);
  t.is(r.fabric.host("worker-0").commands.filter((c) => c === "reqMainGoenabled").length, 3, "no more attempts");
  // Lock/unlock is the operator's retry.
  r.fabric.host("worker-0").goenabledPass = true;
  t.deepEqual(r.agent.action("worker-0", "lock"), { ok: true, queued: false });
  t.true(await r.until(() => r.state("worker-0").startsWith("locked-disabled") && r.get("worker-0").action === "none", 10 * MIN), r.state("worker-0"));
  t.deepEqual(r.agent.action("worker-0", "unlock"), { ok: true, queued: false });
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 10 * MIN), r.state("worker-0"));
  t.deepEqual(r.get("worker-0").autoRecovery, {});
  await r.stop();
});

test("reset ACK missing: a hung host ignores 5 reboot requests; the BMC resets it after bmc_reset_delay", async (t) => {
  const r = await rig();
  r.host("worker-0", { administrative: "unlocked", bmc: true });
  const h = r.fabric.host("worker-0");
  const machine = r.bmcFabric.machine("10.0.0.1");
  // Hung: no ACKs, no mtcAlive, only its BMC still answers.
  r.fabric.kill("worker-0");
  t.true(await r.until(() => h.attempts.filter((c) => c === "reboot").length === 5, 10 * MIN));
  const fifth = r.clock.now();
  t.true(await r.until(() => machine.actions.includes("reset"), 10 * MIN), r.get("worker-0").task);
  const waited = r.clock.now() - fifth;
  t.true(waited >= 250_000 && waited <= 265_000, `BMC reset ${waited} ms after the fifth reboot request (bmc_reset_delay - 5 x 10 s)`);
  t.is(h.attempts.filter((c) => c === "reboot").length, 5, "exactly five reboot requests before the reset");
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 20 * MIN), r.state("worker-0"));
  await r.stop();
});

test("lock: locked-disabled-online, alarm 200.001, both node-locked files; unlock: enabled again and 200.001 cleared", async (t) => {
  const r = await enabledWorker();
  t.deepEqual(r.agent.action("worker-0", "lock"), { ok: true, queued: false });
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-online" && r.get("worker-0").action === "none", 10 * MIN), r.state("worker-0"));
  t.is(r.alarm("200.001", "worker-0"), "warning");
  const h = r.fabric.host("worker-0");
  t.true(h.nodeLocked && h.nodeLockedPersist, "both /var/run/.node_locked and /var/persist/mtc/.node_locked");
  t.true(h.commands.includes("stopWorkerServices"));
  t.false(r.fabric.monitored.has("worker-0"), "heartbeat stopped");
  t.deepEqual(r.agent.action("worker-0", "unlock"), { ok: true, queued: false });
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 10 * MIN), r.state("worker-0"));
  t.is(r.alarm("200.001", "worker-0"), undefined);
  t.false(h.nodeLocked);
  await r.stop();
});

test("force-lock resets the host and locks it", async (t) => {
  const r = await enabledWorker();
  const boots = r.fabric.host("worker-0").boots;
  t.true(r.agent.action("worker-0", "force-lock").ok);
  t.true(await r.until(() => r.state("worker-0").startsWith("locked-disabled") && r.get("worker-0").action === "none", 10 * MIN), r.state("worker-0"));
  t.is(r.alarm("200.001", "worker-0"), "warning");
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-online", 5 * MIN), r.state("worker-0"));
  t.true(r.fabric.host("worker-0").boots > boots, "force-lock rebooted the host");
  await r.stop();
});

test("rejections carry the reference's reasons; actions queue only behind add / force-lock", async (t) => {
  const r = await enabledWorker();
  t.deepEqual(r.agent.action("worker-0", "reboot"), { ok: false, reason: "Cannot perform out-of-service action against in-service host" });
  t.deepEqual(r.agent.action("worker-0", "reinstall"), { ok: false, reason: "Cannot perform out-of-service action against in-service host" });
  t.deepEqual(r.agent.action("worker-0", "unlock"), { ok: false, reason: "worker-0 is already unlocked" });
  t.deepEqual(r.agent.action("worker-0", "delete"), { ok: false, reason: "Cannot delete an unlocked host; lock it first" });
  t.deepEqual(r.agent.action("worker-0", "swact"), { ok: false, reason: "Swact is only supported for controllers" });
  t.deepEqual(r.agent.action("worker-0", "bogus"), { ok: false, reason: "unsupported action 'bogus'" });
  t.is((r.agent.action("nobody", "lock") as { reason: string }).reason, "no host named 'nobody'");
  // Queueing behind add.
  r.host("worker-1");
  t.is(r.get("worker-1").action, "add");
  t.deepEqual(r.agent.action("worker-1", "power-on"), { ok: false, reason: "Power-On Failed - BMC is not provisioned" });
  t.deepEqual(r.agent.action("worker-1", "unlock"), { ok: true, queued: true });
  t.deepEqual(r.agent.action("worker-1", "unlock"), { ok: false, reason: "'unlock' is already queued" });
  t.true(await r.until(() => r.state("worker-1") === "unlocked-enabled-available", 10 * MIN), r.state("worker-1"));
  await r.stop();
});

test("admin reboot of a locked host: it goes down, comes back locked-disabled-online", async (t) => {
  const r = await locked();
  const boots = r.fabric.host("worker-0").boots;
  t.true(r.agent.action("worker-0", "reboot").ok);
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-offline", 5 * MIN));
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-online" && r.get("worker-0").action === "none", 10 * MIN));
  t.is(r.fabric.host("worker-0").boots, boots + 1);
  await r.stop();
});

test("admin reboot failure: a hung host exhausts the retries with the reference's task", async (t) => {
  const r = await locked();
  r.fabric.host("worker-0").ignoreReboot = true;
  t.true(r.agent.action("worker-0", "reboot").ok);
  t.true(await r.until(() => r.get("worker-0").task === "Reboot Failed, try again when host is 'online'", 120 * MIN), r.get("worker-0").task);
  t.is(r.get("worker-0").action, "none");
  await r.stop();
});

test("admin reset through the BMC; BMC unreachable fails after the retries", async (t) => {
  const r = await locked("worker-0", { bmc: true });
  const m = r.bmcFabric.machine("10.0.0.1");
  t.true(r.agent.action("worker-0", "reset").ok);
  t.true(await r.until(() => r.get("worker-0").task === "Reset Completed", 5 * MIN), r.get("worker-0").task);
  t.deepEqual(m.actions, ["reset"]);
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-online", 5 * MIN));
  m.unreachable = true;
  t.true(r.agent.action("worker-0", "reset").ok);
  t.true(await r.until(() => r.get("worker-0").task === "Reset Failed - BMC not accessible", 30 * MIN), r.get("worker-0").task);
  t.is(r.get("worker-0").action, "none");
  await r.stop();
});

test("power-off then power-on through the BMC; power-on of an unreachable BMC fails", async (t) => {
  const r = await locked("worker-0", { bmc: true });
  const m = r.bmcFabric.machine("10.0.0.1");
  t.true(r.agent.action("worker-0", "power-off").ok);
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-power-off" && r.get("worker-0").action === "none", 5 * MIN), r.state("worker-0"));
  t.is(m.power, "off");
  t.false(r.fabric.host("worker-0").up);
  t.is(r.get("worker-0").task, "Power-Off Completed");
  t.true(r.agent.action("worker-0", "power-on").ok);
  t.true(await r.until(() => r.get("worker-0").task === "Power-On Completed", 5 * MIN), r.get("worker-0").task);
  t.true(await r.until(() => r.state("worker-0") === "locked-disabled-online", 10 * MIN), r.state("worker-0"));
  m.unreachable = true;
  t.true(r.agent.action("worker-0", "power-off").ok);
  t.true(await r.until(() => r.get("worker-0").task === "Power-Off Failed - BMC not accessible", 30 * MIN), r.get("worker-0").task);
  await r.stop();
});

test("reinstall with a BMC: power off, network boot, power on, back online", async (t) => {
  const r = await locked("worker-0", { bmc: true });
  const m = r.bmcFabric.machine("10.0.0.1");
  t.true(r.agent.action("worker-0", "reinstall").ok);
  t.true(await r.until(() => r.get("worker-0").task === "Reinstall Succeeded", 60 * MIN), r.get("worker-0").task);
  t.deepEqual(m.actions, ["off", "on"]);
  t.is(m.boot.device, "pxe");
  t.false(m.boot.persistent);
  await r.stop();
});

test("reinstall without a BMC: wipedisk, offline, online; no ACK → failed", async (t) => {
  const r = await locked();
  t.true(r.agent.action("worker-0", "reinstall").ok);
  t.true(await r.until(() => r.get("worker-0").task === "Reinstall Succeeded", 60 * MIN), r.get("worker-0").task);
  t.true(r.fabric.host("worker-0").commands.includes("wipedisk"));
  await r.clock.advance(MIN);
  r.fabric.host("worker-0").ackCommands = false;
  t.true(r.agent.action("worker-0", "reinstall").ok);
  t.true(await r.until(() => r.get("worker-0").task === "Reinstall Failed ; no response to wipedisk request", 5 * MIN), r.get("worker-0").task);
  await r.stop();
});

test("delete: wipedisk, heartbeat removed, alarms cleared, host gone", async (t) => {
  const r = await locked();
  t.is(r.alarm("200.001", "worker-0"), undefined);
  t.true(r.agent.action("worker-0", "delete").ok);
  t.true(await r.until(() => r.agent.host("worker-0") === undefined, MIN));
  t.true(r.fabric.host("worker-0").commands.includes("wipedisk"));
  t.true(r.fabric.hbCalls.includes("del worker-0"));
  t.false(r.store.records.has("worker-0"));
  await r.stop();
});

test("heartbeat loss on an enabled host: failed, graceful recovery, enabled again when it is back", async (t) => {
  const r = await enabledWorker();
  r.fabric.kill("worker-0");
  t.true(await r.until(() => r.state("worker-0") === "unlocked-disabled-failed", 2 * MIN), r.state("worker-0"));
  await r.clock.advance(2 * MIN);
  r.fabric.revive("worker-0");
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 30 * MIN), r.state("worker-0"));
  t.is(r.alarm("200.004", "worker-0"), undefined);
  await r.stop();
});

test("graceful recovery of a host that never went away keeps it in service without a reboot", async (t) => {
  const r = await enabledWorker();
  await r.clock.advance(20 * MIN);
  const boots = r.fabric.host("worker-0").boots;
  r.fabric.emitHeartbeat("loss", "worker-0");
  t.true(await r.until(() => r.get("worker-0").action === "recovery", MIN));
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available" && r.get("worker-0").action === "none", 5 * MIN), r.state("worker-0"));
  t.is(r.fabric.host("worker-0").boots, boots, "no reboot");
  await r.stop();
});

test("MNFA: two hosts lose heartbeat together → backoff and pool, graceful recovery on exit; timeout fails them all", async (t) => {
  const r = await rig({ config: { timeouts: { mnfa: 120 } } });
  for (const n of ["worker-0", "worker-1", "worker-2"]) r.host(n, { administrative: "unlocked" });
  t.true(await r.until(() => ["worker-0", "worker-1", "worker-2"].every((n) => r.state(n) === "unlocked-enabled-available"), 15 * MIN));
  await r.clock.advance(20 * MIN);
  r.fabric.emitHeartbeat("minorSet", "worker-0");
  t.false(r.agent.mnfa.active);
  r.fabric.emitHeartbeat("minorSet", "worker-1");
  t.true(r.agent.mnfa.active, "entered at mnfa_threshold (2)");
  t.true(r.fabric.backedOff);
  t.is(r.get("worker-0").task, "Graceful Recovery Wait");
  r.fabric.emitHeartbeat("loss", "worker-0");
  await r.clock.advance(10_000);
  t.is(r.get("worker-0").operational, "enabled", "no failure while MNFA is active");
  r.fabric.emitHeartbeat("minorClear", "worker-0");
  r.fabric.emitHeartbeat("minorClear", "worker-1");
  t.false(r.agent.mnfa.active, "exit when below the threshold");
  t.true(await r.until(() => ["worker-0", "worker-1"].every((n) => r.state(n) === "unlocked-enabled-available" && r.get(n).action === "none"), 5 * MIN));
  t.false(r.fabric.backedOff, "heartbeat period restored");
  // Timeout: pooled hosts fail into a full enable.
  r.fabric.emitHeartbeat("minorSet", "worker-1");
  r.fabric.emitHeartbeat("minorSet", "worker-2");
  t.true(r.agent.mnfa.active);
  await r.clock.advance(121_000);
  t.false(r.agent.mnfa.active);
  t.is(r.alarm("200.004", "worker-1"), "critical");
  t.true(["enable"].includes(r.get("worker-2").action) || r.state("worker-2") !== "unlocked-enabled-available");
  t.true(await r.until(() => ["worker-1", "worker-2"].every((n) => r.state(n) === "unlocked-enabled-available"), 30 * MIN));
  await r.stop();
});

test("swact: the active controller's services move to the in-service standby via SM", async (t) => {
  const r = await rig();
  r.host("controller-0", { personality: "controller", administrative: "unlocked" });
  r.host("controller-1", { personality: "controller", administrative: "unlocked" });
  t.true(await r.until(() => r.state("controller-1") === "unlocked-enabled-available", 40 * MIN), r.state("controller-1"));
  t.deepEqual(r.agent.action("controller-0", "swact"), { ok: true, queued: false });
  t.true(
    await r.until(() => r.get("controller-0").task === "Swact: Complete" && r.get("controller-0").action === "none", 10 * MIN),
    r.get("controller-0").task,
  );
  t.is(r.sm.active, "controller-1");
  t.true(r.fabric.monitored.has("controller-1"), "heartbeat restarted after the swact");
  // SM refuses → failed task.
  r.sm.failSwact = true;
  r.sm.active = "controller-0";
  await r.clock.advance(MIN);
  t.true(r.agent.action("controller-0", "swact").ok);
  t.true(await r.until(() => r.get("controller-0").task === "Swact: Failed", 10 * MIN), r.get("controller-0").task);
  await r.stop();
});

test("active-controller self-protection: it is never failed, and cannot be locked without a standby", async (t) => {
  const r = await rig();
  r.host("controller-0", { personality: "controller", administrative: "unlocked" });
  t.true(await r.until(() => r.state("controller-0") === "unlocked-enabled-available", 40 * MIN), r.state("controller-0"));
  t.deepEqual(r.agent.action("controller-0", "lock"), { ok: false, reason: "Cannot lock the active controller; swact to the standby controller first" });
  r.fabric.emitHeartbeat("loss", "controller-0");
  await r.clock.advance(MIN);
  t.is(r.get("controller-0").operational, "enabled");
  t.is(r.state("controller-0"), "unlocked-enabled-degraded");
  await r.stop();
});

test("AIO controller: main enable, then the worker subfunction (enable-subf); subfunction goenabled failure → 200.013", async (t) => {
  const r = await rig({ config: { system: { type: "aio-dx" } } });
  r.host("controller-1", { personality: "controller", subfunctions: ["controller", "worker"], administrative: "unlocked" });
  t.true(await r.until(() => r.get("controller-1").subfunctionOper === "enabled", 40 * MIN), JSON.stringify(r.get("controller-1")));
  t.is(r.state("controller-1"), "unlocked-enabled-available");
  t.is(r.get("controller-1").subfunctionAvail, "available");
  t.true(r.fabric.host("controller-1").commands.includes("reqSubfGoenabled"));
  t.true(r.agent.action("controller-1", "lock").ok);
  t.true(await r.until(() => r.state("controller-1") === "locked-disabled-online" && r.get("controller-1").action === "none", 10 * MIN));
  r.fabric.host("controller-1").subfGoenabledPass = false;
  t.true(r.agent.action("controller-1", "unlock").ok);
  t.true(await r.until(() => r.alarm("200.013", "controller-1") === "critical", 40 * MIN), r.get("controller-1").task);
  await r.stop();
});

test("agent restart: hosts are reloaded from the store and recovered through the add handler", async (t) => {
  const first = await enabledWorker("worker-0");
  first.host("worker-1");
  t.true(await first.until(() => first.state("worker-1") === "locked-disabled-online", 5 * MIN));
  await first.agent.flushNow();
  await first.stop();
  const again = new Rig({ store: first.store });
  again.fabric.add("worker-0");
  again.fabric.add("worker-1");
  again.fabric.host("worker-1").nodeLocked = true;
  await again.agent.start();
  t.is(again.get("worker-0").action, "add");
  t.true(await again.until(() => again.get("worker-0").action === "none" && again.get("worker-1").action === "none", 5 * MIN));
  t.is(again.state("worker-0"), "unlocked-enabled-available");
  t.is(again.state("worker-1"), "locked-disabled-online");
  t.true(again.fabric.monitored.has("worker-0"), "heartbeat resumed for the enabled host");
  t.false(again.fabric.host("worker-0").commands.includes("reboot"), "recovery did not reboot an in-service host");
  t.true(again.fabric.host("worker-0").commands.includes("startWorkerServices"), "host services restarted in the add handler");
  t.false(again.fabric.host("worker-1").commands.includes("startWorkerServices"), "not on a locked host");
  await again.stop();
});

test("ar-disabled survives an agent restart through the persisted task", async (t) => {
  const first = await rig();
  first.host("worker-0", { administrative: "unlocked" });
  first.fabric.host("worker-0").goenabledPass = false;
  t.true(await first.until(() => first.get("worker-0").task === AR_DISABLED_TASK.goenable, 60 * MIN));
  await first.agent.flushNow();
  await first.stop();
  const again = new Rig({ store: first.store });
  again.fabric.add("worker-0");
  await again.agent.start();
  t.true(await again.until(() => again.get("worker-0").action === "none", 5 * MIN));
  await again.clock.advance(10 * MIN);
  t.is(again.get("worker-0").task, AR_DISABLED_TASK.goenable);
  t.is(again.state("worker-0"), "unlocked-disabled-failed");
  t.false(again.fabric.host("worker-0").commands.includes("reqMainGoenabled"), "no enable attempts while ar-disabled");
  await again.stop();
});

test("dead office recovery: a controller that just booted opens the DOR window", async (t) => {
  const r = await rig({ uptimeS: 60 });
  t.true(r.agent.env.dorActive());
  await r.clock.advance(1_001_000);
  t.false(r.agent.env.dorActive(), "window = dor_mode_timeout + enabled hosts");
  await r.stop();
});
