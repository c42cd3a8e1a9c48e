import { arEnable, clearHeartbeatFaults, hostServicesCommand, lockPersistParm, SEC, smNotify, Timers } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { beginResetProgression, stepResetProgression } from "./reset-progression.js";

/**
 * Disable / lock and force-lock (reference §2.7): stop heartbeat and host services (force-lock resets the host
 * instead), tell the host it is locked (both node-locked files), post locked-disabled-{online|offline}, raise 200.001.
 */
export const disableHandler: HandlerDef<HostCtx> = {
  name: "disable",
  description: "lock / force-lock a host",
  stages: [
    {
      name: "START",
      run: (c) => {
        const force = c.action === "force-lock";
        c.env.alarms.log("200.021", c.name, `${c.name} ${force ? "force-lock" : "lock"}`);
        c.offline.active = false;
        c.vars.wasOut = ["offline", "failed", "power-off"].includes(c.rec.availability);
        if (c.power === "off" && c.bmc()?.power) return goto("HANDLE_POWERON_SEND");
        if (force && c.rec.operational === "enabled") c.setState({ oper: "disabled", avail: "online" });
        c.setTask(c.isController ? "Disabling Controller" : "Disabling");
        if (!c.isSelf) {
          smNotify(c, "locked");
          clearHeartbeatFaults(c);
          c.env.heartbeat.stopHost(c.name);
        }
        return force && !c.vars.wasOut ? goto("HANDLE_FORCE_LOCK") : goto("DISABLE_SERVICES");
      },
      next: [
        ["DISABLE_SERVICES", "lock"],
        ["HANDLE_FORCE_LOCK", "force-lock"],
        ["HANDLE_POWERON_SEND", "powered off, BMC"],
      ],
    },
    {
      name: "HANDLE_POWERON_SEND",
      run: (c) => {
        const bmc = c.bmc();
        c.launch("poweron", async () => bmc?.power?.set("on"));
        return goto("HANDLE_POWERON_RECV");
      },
      next: [["HANDLE_POWERON_RECV"]],
    },
    {
      name: "HANDLE_POWERON_RECV",
      timeoutMs: () => 20 * SEC,
      run: (c) => {
        const o = c.outcome("poweron");
        if (o?.state !== "ok") return stay;
        c.power = "on";
        c.powerOnAt = c.now();
        return goto("DISABLE_SERVICES");
      },
      onTimeout: () => goto("HANDLE_POWERON_SEND"),
      next: [
        ["DISABLE_SERVICES", "powered on"],
        ["HANDLE_POWERON_SEND", "retry after 20 s"],
      ],
    },
    {
      name: "HANDLE_FORCE_LOCK",
      run: (c) => {
        c.setTask("Force Lock Reset in Progress");
        beginResetProgression(c, 2, false);
        return goto("RESET_HOST_WAIT");
      },
      next: [["RESET_HOST_WAIT"]],
    },
    {
      name: "RESET_HOST_WAIT",
      run: (c) => {
        const r = stepResetProgression(c);
        if (r === undefined) return stay;
        return c.rec.availability === "offline" || c.rec.availability === "power-off" ? goto("TASK_STATE_UPDATE") : goto("HANDLE_FORCE_LOCK");
      },
      next: [
        ["TASK_STATE_UPDATE", "host offline"],
        ["HANDLE_FORCE_LOCK", "still online: again"],
      ],
    },
    {
      name: "DISABLE_SERVICES",
      run: (c) => {
        c.hostServices = undefined;
        c.vars.servicesFrom = c.now();
        c.launch("svc.stop", () => c.env.messaging.command(c.name, hostServicesCommand(c, "stop"), { timeoutMs: c.cfg.timeouts.cmdResponse * SEC }));
        return goto("DIS_SERVICES_WAIT");
      },
      next: [["DIS_SERVICES_WAIT"]],
    },
    {
      name: "DIS_SERVICES_WAIT",
      timeoutMs: (c) => (c.cfg.timeouts.hostServices + 5 + c.cfg.timeouts.cmdResponse) * SEC,
      run: (c) => {
        const ack = c.outcome("svc.stop");
        if (!ack || ack.state === "pending") return stay;
        const next = c.rec.personality === "storage" ? goto("HANDLE_CEPH_LOCK") : goto("TASK_STATE_UPDATE");
        if (ack.state === "fail") {
          // An offline host cannot stop anything; the lock goes on (stop failures are logged only).
          c.env.log.info({ host: c.name, err: ack.error }, "stop host services: no ACK; lock continues");
          return next;
        }
        const r = c.hostServices;
        if (!r || r.at < (c.vars.servicesFrom as number)) return stay;
        if (r.rc !== 0) c.env.log.warn({ host: c.name, rc: r.rc, text: r.text }, "stop host services failed; lock continues");
        return next;
      },
      onTimeout: (c) => {
        c.env.log.warn({ host: c.name }, "stop host services timed out; lock continues");
        return c.rec.personality === "storage" ? goto("HANDLE_CEPH_LOCK") : goto("TASK_STATE_UPDATE");
      },
      next: [
        ["TASK_STATE_UPDATE", "services stopped (or failed: logged)"],
        ["HANDLE_CEPH_LOCK", "storage"],
      ],
    },
    {
      name: "HANDLE_CEPH_LOCK",
      timeoutMs: () => Timers.lockCephDelay,
      run: () => stay,
      onTimeout: () => goto("TASK_STATE_UPDATE"),
      next: [["TASK_STATE_UPDATE", "MTC_LOCK_CEPH_DELAY"]],
    },
    {
      name: "TASK_STATE_UPDATE",
      run: (c) => {
        const parms = [lockPersistParm(c)];
        c.send("locked", { network: "mgmt", parms, expectAck: false });
        if (c.rec.clusterHostIp) c.send("locked", { network: "clusterHost", parms, expectAck: false });
        const out = c.vars.wasOut || c.rec.availability === "offline" || c.rec.availability === "power-off";
        c.setState({ admin: "locked", oper: "disabled", avail: c.rec.availability === "power-off" ? "power-off" : out ? "offline" : "online" });
        c.setSubf("disabled", out ? "offline" : "online");
        return goto("DISABLED");
      },
      next: [["DISABLED"]],
    },
    {
      name: "DISABLED",
      run: (c) => {
        c.raise({ id: "200.001", severity: "warning", text: `${c.name} was administratively locked to take it out-of-service` });
        c.clearAlarm("200.004");
        c.clearAlarm("200.011");
        c.clearAlarm("200.013");
        c.rec.degradeMask = 0;
        c.gateOpen = true;
        c.powercycleAttempts = 0;
        c.setAction("none");
        arEnable(c);
        c.setTask("");
        return done("pass");
      },
      next: [[END, "locked"]],
    },
  ],
};
