import type { HeartbeatEvent, HostMessage } from "../agent/ports.js";
import { DegradeMask } from "../inventory/host.js";
import { forceFullEnable, lockPersistParm } from "./common.js";
import { type HostCtx, type MaintenanceEnv, MtcFlag } from "./host-context.js";
import type { Mnfa } from "./mnfa.js";
import { applyPmonEvent, isPmonEvent, pmondReady, refreshPmonDegrade } from "./pmon-events.js";
import { addToHeartbeat } from "./stages.js";

const SOAK_STAGES = new Set(["HEARTBEAT_SOAK", "HEARTBEAT_WAIT", "HEARTBEAT_START"]);

/** A decoded message from a host's mtcClient lands here (reference §4 flag audit, §1.5 events). */
export function applyHostMessage(env: MaintenanceEnv, m: HostMessage): void {
  const c = env.host(m.hostname);
  if (!c) return;
  const now = env.clock.now();
  switch (m.kind) {
    case "mtcAlive": {
      c.aliveAt.set(m.network, now);
      if (c.gateOpen) c.alive = { at: now, uptime: m.uptime, flags: m.flags, health: m.health, network: m.network };
      c.rec.uptime = m.uptime;
      flagAudit(c, m.flags, m.network);
      return;
    }
    case "goenabled":
      c.goenabled = { subf: m.subfunction, passed: m.passed, at: now, ...(m.text ? { text: m.text } : {}) };
      return;
    case "hostServicesResult":
      c.hostServices = { rc: m.rc, text: m.text, at: now };
      return;
    case "monitorReady":
      if (m.service === "hbsClient") c.hbsClientReady = true;
      if (m.service === "pmond") pmondReady(env, c);
      return;
    case "event":
      if (isPmonEvent(m.code)) applyPmonEvent(env, c, m.code, m.payload);
      else hostEvent(env, c, m.code);
      return;
    case "pxebootLoss":
      c.raise({ id: "200.003", severity: "minor", text: `${c.name} pxeboot network communication failure` });
      return;
    case "pxebootRecovered":
      c.clearAlarm("200.003");
      return;
  }
}

const HWMON_RESET = 0x11110005;
const HWMON_POWERCYCLE = 0x11110009;
const DEGRADE_RAISE = 0x77770001;
const DEGRADE_CLEAR = 0x77770000;

/** Events from the host's daemons (collectd degrade, hwmon critical-sensor actions; reference §2.12, §6.4). */
function hostEvent(env: MaintenanceEnv, c: HostCtx, code: number): void {
  if (code === DEGRADE_RAISE) c.rec.degradeMask |= DegradeMask.Collectd;
  else if (code === DEGRADE_CLEAR) c.rec.degradeMask &= ~DegradeMask.Collectd;
  else if (code === HWMON_POWERCYCLE) hwmonAction(env, c, "powercycle", "critical sensor");
  else if (code === HWMON_RESET) hwmonAction(env, c, "reset", "critical sensor");
}

/**
 * invoke_hwmon_action (reference §2.12): a critical sensor asks for a reset or a power-cycle. Both need the BMC
 * and neither is ever applied to the active controller. A reset of an in-service host is a full enable.
 */
export function hwmonAction(env: MaintenanceEnv, c: HostCtx, what: "reset" | "powercycle", reason: string): void {
  if (c.isSelf || !c.bmcProvisioned()) {
    env.log.warn({ host: c.name, what, reason }, "hwmon action refused: active controller or no BMC");
    return;
  }
  if (what === "powercycle") {
    if (c.action !== "powercycle") c.setAction("powercycle");
  } else if (!c.locked && c.rec.operational === "enabled") forceFullEnable(c, `${reason}: reset`);
  else if (c.locked) c.setAction("reset");
}

/** mtcAlive flag audit: the node-locked files must match the admin state; out-of-band failures re-enable. */
function flagAudit(c: HostCtx, flags: number, network: string): void {
  if (!c.alive || c.run?.handler === "disable") return;
  if (!c.locked && flags & MtcFlag.Locked) c.send("unlocked", { network: network as "mgmt", expectAck: false });
  if (c.locked && !(flags & MtcFlag.Locked) && c.action === "none")
    c.send("locked", { network: network as "mgmt", parms: [lockPersistParm(c)], expectAck: false });
  const inService = !c.locked && c.rec.operational === "enabled" && c.action === "none" && !c.arDisabled;
  if (inService && !c.isSelf && flags & (MtcFlag.MainGoenableFail | MtcFlag.MainServicesFail)) {
    forceFullEnable(c, flags & MtcFlag.MainGoenableFail ? "out-of-band goenabled failure" : "host services failure");
  }
  // SM_UNHEALTHY (the client already debounced /var/run/.sm_node_unhealthy over 6 mtcAlives): an inactive controller
  // is failed and re-enabled by reboot; the active one (this agent's own) is degraded, never failed (reference §2.19).
  if (inService && c.isController && flags & MtcFlag.SmUnhealthy) {
    if (!c.isSelf) forceFullEnable(c, "Service Manager reports the controller unhealthy");
    else if (!(c.rec.degradeMask & DegradeMask.Sm)) {
      c.env.log.error({ host: c.name }, "Service Manager reports this active controller unhealthy; degraded");
      c.rec.degradeMask |= DegradeMask.Sm;
    }
  }
}

/**
 * MTC_EVENT_HEARTBEAT_READY (reference §3.3): an hbsAgent that (re)started knows no host, so the mtcAgent pushes
 * ADD_HOST for every host it heartbeats and START_HOST for the in-service ones. Taken from either controller's
 * hbsAgent (the commands go to both); ADD/START are idempotent on an hbsAgent that already has the host.
 */
function pushHeartbeatInventory(env: MaintenanceEnv): void {
  const hosts = [...env.hosts()].filter((c) => c.rec.mgmtIp && c.action !== "delete");
  for (const c of hosts) addToHeartbeat(c);
  for (const c of hosts) if (!c.locked && c.rec.operational === "enabled" && !c.isSelf) env.heartbeat.startHost(c.name);
  // A restarted hbsAgent starts inactive; say which controller is active now rather than at the next in-service test.
  env.heartbeat.activeController(env.self);
}

/** hbsAgent events (reference §3.3); only the active controller's hbsAgent is listened to. */
export function applyHeartbeatEvent(env: MaintenanceEnv, mnfa: Mnfa, e: HeartbeatEvent): void {
  if (e.kind === "ready") {
    pushHeartbeatInventory(env);
    return;
  }
  if (e.from !== env.self) return;
  const c = env.host(e.hostname);
  if (!c) return;
  const action = env.config.heartbeat.failureAction;
  const bit = e.network === "mgmt" ? DegradeMask.HeartbeatMgmt : DegradeMask.HeartbeatClstr;
  switch (e.kind) {
    case "minorSet":
      c.heartbeatMinor.add(e.network);
      if (e.network === "mgmt") mnfa.add(c, e.network);
      return;
    case "minorClear":
      c.heartbeatMinor.delete(e.network);
      mnfa.clear(c, e.network);
      return;
    case "degradeSet":
      if (action === "fail" || action === "degrade") c.rec.degradeMask |= bit;
      c.heartbeatMinor.add(e.network);
      mnfa.add(c, e.network);
      return;
    case "degradeClear":
      c.rec.degradeMask &= ~bit;
      c.heartbeatMinor.delete(e.network);
      mnfa.clear(c, e.network);
      return;
    case "pmondRaise":
      c.rec.degradeMask |= DegradeMask.Pmon;
      c.raise({ id: "200.006", severity: "major", entity: "process=pmond", text: `${c.name} pmond process is not running or functioning` });
      return;
    case "pmondClear":
      c.clearAlarm("200.006", "process=pmond");
      // A process pmond still reports failed keeps the host degraded.
      refreshPmonDegrade(env, c);
      return;
    case "loss":
      heartbeatLoss(env, mnfa, c, e.network);
      return;
  }
}

/** manage_heartbeat_failure (reference §2.17, §3.3). */
function heartbeatLoss(env: MaintenanceEnv, mnfa: Mnfa, c: HostCtx, network: "mgmt" | "clusterHost"): void {
  const action = env.config.heartbeat.failureAction;
  if (action === "none" || action === "alarm") return;
  if (action === "degrade") {
    c.rec.degradeMask |= network === "mgmt" ? DegradeMask.HeartbeatMgmt : DegradeMask.HeartbeatClstr;
    return;
  }
  c.heartbeatLoss = true;
  c.heartbeatMinor.add(network);
  mnfa.add(c, network);
  if (mnfa.active || c.locked) return;
  // The handlers in a soak stage read the flag themselves (enable → failure, add → recovery, recovery → full enable).
  if (c.run && !c.run.result && SOAK_STAGES.has(c.run.stage)) return;
  if (c.rec.operational !== "enabled" || c.action !== "none") return;
  if (c.isSelf) {
    // Never fail the controller this agent runs on: degrade it.
    c.rec.degradeMask |= DegradeMask.HeartbeatMgmt;
    return;
  }
  env.alarms.log("200.022", c.name, `${c.name} heartbeat loss`);
  c.setState({ oper: "disabled", avail: "failed" });
  c.setAction("recovery");
}
