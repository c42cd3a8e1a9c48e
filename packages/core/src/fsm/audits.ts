import { DegradeMask } from "../inventory/host.js";
import { forceFullEnable, lockPersistParm, SEC, Timers } from "./common.js";
import type { HostCtx } from "./host-context.js";
import { MtcFlag } from "./host-context.js";

/**
 * The per-pass audits every host gets regardless of its action (reference §2.2 step 3, §2.8, §2.19):
 * degrade from the mask, the offline search, the online windows, and the in-service test.
 */

/** degrade_handler: unlocked-enabled hosts follow their degrade mask. */
export function degradeAudit(c: HostCtx): void {
  const r = c.rec;
  if (r.administrative !== "unlocked" || r.operational !== "enabled") return;
  if (r.degradeMask === 0 && r.availability === "degraded") c.setState({ avail: "available" });
  else if (r.degradeMask !== 0 && r.availability === "available") c.setState({ avail: "degraded" });
}

/**
 * offline_handler: while active, ask for an mtcAlive every period; a window without any counts a miss, an
 * mtcAlive resets the count (the misses must be consecutive); past the threshold the host is offline.
 */
export function offlineAudit(c: HostCtx): void {
  const o = c.offline;
  if (!o.active) return;
  const now = c.now();
  if (now - o.lastRequest < Timers.offlinePeriod) return;
  let latest = 0;
  for (const t of c.aliveAt.values()) latest = Math.max(latest, t);
  // Count every period that passed since the last look, so the search takes the same time at any pass rate.
  if (o.lastRequest && latest >= o.lastRequest) o.count = 0;
  else if (o.lastRequest) o.count += Math.max(1, Math.floor((now - o.lastRequest) / Timers.offlinePeriod));
  o.lastRequest = now;
  if (o.count > c.cfg.timeouts.offlineThreshold) {
    o.active = false;
    o.count = 0;
    c.alive = undefined;
    c.aliveAt.clear();
    c.hbsClientReady = false;
    if (c.rec.availability !== "power-off") c.setState({ avail: "offline" });
    c.setSubf("disabled", "offline");
    return;
  }
  c.send("reqMtcAlive", { network: "mgmt", expectAck: false });
}

const ONLINE_SKIP = new Set(["available", "degraded", "offduty", "intest", "not-installed"]);
const MTCALIVE_HITS_TO_GO_ONLINE = 5;

/**
 * online_handler: 7 s windows. For hosts that are not in service: mtcAlive → online (5 windows in a row
 * when coming out of power-off); three silent windows → offline. Locked hosts get LOCKED every window,
 * which keeps their node-locked files right.
 */
export function onlineAudit(c: HostCtx): void {
  if (c.arDisabled || ONLINE_SKIP.has(c.rec.availability)) return;
  if (c.run && !c.run.result && (c.run.stage.startsWith("FAILURE") || c.run.handler === "reset-progression")) return;
  const o = c.online;
  const now = c.now();
  const period = c.cfg.timeouts.onlinePeriod * SEC;
  if (o.windowStart === 0) o.windowStart = now;
  if (now - o.windowStart < period) return;
  o.windowStart = now;
  let latest = 0;
  for (const t of c.aliveAt.values()) latest = Math.max(latest, t);
  const seen = latest > o.lastAliveSeen;
  o.lastAliveSeen = latest;
  if (c.locked) {
    const parms = [lockPersistParm(c)];
    c.send("locked", { network: "mgmt", parms, expectAck: false });
    if (c.rec.clusterHostIp) c.send("locked", { network: "clusterHost", parms, expectAck: false });
  }
  if (seen) {
    o.misses = 0;
    if (c.rec.availability === "online") return;
    if (c.rec.availability === "power-off" && ++o.hits < MTCALIVE_HITS_TO_GO_ONLINE) return;
    o.hits = 0;
    // Handlers in progress own the availability of unlocked hosts; the audit only speaks for idle ones.
    if (c.locked || c.action === "none") {
      c.setState({ avail: "online" });
      c.setSubf("disabled", "online");
    }
    return;
  }
  o.hits = 0;
  if (c.rec.availability === "offline" || c.rec.availability === "power-off") return;
  if (o.misses++ > 1) {
    o.misses = 0;
    c.setState({ avail: "offline" });
    c.setSubf("disabled", "offline");
  }
}

/** insv_test_handler every 10 s for unlocked-enabled hosts (reference §2.19). */
export function inServiceTest(c: HostCtx): void {
  const r = c.rec;
  if (r.administrative !== "unlocked" || r.operational !== "enabled" || c.arDisabled) return;
  if (r.availability !== "available" && r.availability !== "degraded") return;
  const now = c.now();
  if (now - c.lastInsvTest < Timers.insvTestPeriod) return;
  c.lastInsvTest = now;
  if (c.isSelf) c.env.heartbeat.activeController(c.name);
  const a = c.alive;
  if (!a) return;
  if (a.flags & MtcFlag.SmDegraded || (c.isSelf && a.flags & MtcFlag.SmUnhealthy)) r.degradeMask |= DegradeMask.Sm;
  else r.degradeMask &= ~DegradeMask.Sm;
  if (a.flags & MtcFlag.LuksVolFailed) {
    r.degradeMask |= DegradeMask.Luks;
    c.raise({ id: "200.016", severity: "critical", text: `${c.name} LUKS volume failure` });
  } else if (r.degradeMask & DegradeMask.Luks) {
    r.degradeMask &= ~DegradeMask.Luks;
    c.clearAlarm("200.016");
  }
  if (a.flags & MtcFlag.NotHealthy) {
    if (c.isSelf) {
      r.degradeMask |= DegradeMask.Config;
      c.raise({ id: "200.011", severity: "critical", text: `${c.name} configuration failure` });
    } else if (++c.unhealthyCount >= Timers.unhealthyThreshold) {
      c.unhealthyCount = 0;
      forceFullEnable(c, "host reports unhealthy");
    }
  } else {
    c.unhealthyCount = 0;
    if (a.flags & MtcFlag.Healthy && r.degradeMask & DegradeMask.Config && !c.env.alarms.isActive("200.011", c.name)) r.degradeMask &= ~DegradeMask.Config;
  }
  // AIO: main enabled but the subfunction is not → re-run the subfunction enable.
  if (c.isAio && r.subfunctionOper === "disabled" && c.action === "none" && !c.env.alarms.isActive("200.013", c.name)) c.setAction("enable-subf");
}
