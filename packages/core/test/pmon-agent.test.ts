/**
 * mtcAgent reactions to pmond's events (issue 13; reference mtce-core.md §9 policy, §7 200.006), in virtual time
 * over simulated hosts: minor → alarm only; major → alarm + DEGRADE_MASK_PMON until cleared; critical → the host
 * fails and is re-enabled by a reboot, except the active controller without a standby (degraded); pmond's ready
 * event drops the host's process alarms.
 */
import test from "ava";
import { DegradeMask } from "../src/inventory/host.js";
import { MtcEvent } from "../src/wire/mtc-codes.js";
import { Rig } from "./support/agent-rig.js";

const MIN = 60_000;

async function enabled(name: string, personality: "worker" | "controller" = "worker") {
  const r = new Rig();
  await r.agent.start();
  r.host(name, { administrative: "unlocked", personality });
  if (!(await r.until(() => r.state(name) === "unlocked-enabled-available", 10 * MIN))) throw new Error(`${name}: ${r.state(name)}`);
  return r;
}

const pmon = (r: Rig, host: string, code: number, process: string, reason?: string) =>
  r.fabric.emitEvent(host, code, "pmond", { hostname: host, service: "pmond", process, ...(reason ? { reason } : {}) });

const alarm = (r: Rig, host: string, process: string) =>
  r.agent.alarms.active().find((a) => a.id === "200.006" && a.hostname === host && a.entity === `process=${process}`);

test("minor: 200.006 minor for the process, no degrade; clear removes it", async (t) => {
  const r = await enabled("worker-0");
  pmon(r, "worker-0", MtcEvent.MTC_EVENT_PMON_MINOR, "ntpd", "3 restarts");
  t.is(alarm(r, "worker-0", "ntpd")?.severity, "minor");
  t.regex(alarm(r, "worker-0", "ntpd")?.text ?? "", /'ntpd' process has failed \(3 restarts\)/);
  t.is((r.agent.ctx("worker-0")?.rec.degradeMask ?? 0) & DegradeMask.Pmon, 0);
  pmon(r, "worker-0", MtcEvent.MTC_EVENT_PMON_CLEAR, "ntpd");
  t.is(alarm(r, "worker-0", "ntpd"), undefined);
  await r.stop();
});

test("major: 200.006 major and DEGRADE_MASK_PMON; the hbsAgent's pmond clear keeps the degrade while a process is failed", async (t) => {
  const r = await enabled("worker-0");
  pmon(r, "worker-0", MtcEvent.MTC_EVENT_PMON_MAJOR, "hbsClient");
  t.is(alarm(r, "worker-0", "hbsClient")?.severity, "major");
  t.truthy((r.agent.ctx("worker-0")?.rec.degradeMask ?? 0) & DegradeMask.Pmon);
  await r.clock.advance(5_000);
  t.is(r.get("worker-0").availability, "degraded");
  r.fabric.emitHeartbeat("pmondRaise", "worker-0");
  r.fabric.emitHeartbeat("pmondClear", "worker-0");
  t.truthy((r.agent.ctx("worker-0")?.rec.degradeMask ?? 0) & DegradeMask.Pmon, "hbsClient is still failed");
  pmon(r, "worker-0", MtcEvent.MTC_EVENT_PMON_CLEAR, "hbsClient");
  t.is((r.agent.ctx("worker-0")?.rec.degradeMask ?? 0) & DegradeMask.Pmon, 0);
  t.true(await r.until(() => r.get("worker-0").availability === "available", MIN));
  await r.stop();
});

test("critical: the host fails and is re-enabled through a reboot", async (t) => {
  const r = await enabled("worker-0");
  const boots = r.fabric.host("worker-0").boots;
  pmon(r, "worker-0", MtcEvent.MTC_EVENT_PMON_CRIT, "mtcClient");
  t.is(alarm(r, "worker-0", "mtcClient")?.severity, "critical");
  t.is(r.state("worker-0"), "unlocked-disabled-failed");
  t.true(await r.until(() => r.fabric.host("worker-0").boots > boots, 10 * MIN), "rebooted");
  // pmond starts afresh on the rebooted host and says so.
  r.fabric.emit({ kind: "monitorReady", hostname: "worker-0", service: "pmond", payload: {} });
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available" && r.get("worker-0").action === "none", 30 * MIN), r.state("worker-0"));
  t.is(alarm(r, "worker-0", "mtcClient"), undefined, "pmond's ready event dropped the process alarm");
  await r.stop();
});

test("critical on the active controller without an in-service standby: degraded, not failed", async (t) => {
  const r = await enabled("controller-0", "controller");
  pmon(r, "controller-0", MtcEvent.MTC_EVENT_PMON_CRIT, "sm");
  t.is(alarm(r, "controller-0", "sm")?.severity, "critical");
  t.is(r.get("controller-0").operational, "enabled");
  t.truthy((r.agent.ctx("controller-0")?.rec.degradeMask ?? 0) & DegradeMask.Pmon);
  await r.stop();
});

test("a pmon event without a valid process name is dropped; pmond's ready event keeps the hbsAgent's 'pmond' alarm", async (t) => {
  const r = await enabled("worker-0");
  pmon(r, "worker-0", MtcEvent.MTC_EVENT_PMON_MAJOR, "bad name;rm -rf");
  t.false(r.agent.alarms.active().some((a) => a.id === "200.006"));
  r.fabric.emitHeartbeat("pmondRaise", "worker-0");
  pmon(r, "worker-0", MtcEvent.MTC_EVENT_PMON_MINOR, "ntpd");
  r.fabric.emit({ kind: "monitorReady", hostname: "worker-0", service: "pmond", payload: {} });
  t.truthy(alarm(r, "worker-0", "pmond"));
  t.is(alarm(r, "worker-0", "ntpd"), undefined);
  await r.stop();
});
