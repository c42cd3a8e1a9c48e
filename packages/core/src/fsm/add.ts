import { AR_CAUSES, AR_DISABLED_TASK, DegradeMask } from "../inventory/host.js";
import { forceFullEnable, hostServicesCommand, SEC, smNotify, Timers } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { addToHeartbeat, startHeartbeat } from "./stages.js";

/**
 * Add (reference §2.3): runs for every new host and for every host loaded after an agent restart (so the
 * restarted agent recovers each host's state): re-read alarm state, restore ar-disabled from the persisted
 * task, hand the host to the heartbeat, and for hosts already in service wait for hbsClient and soak.
 */
export const addHandler: HandlerDef<HostCtx> = {
  name: "add",
  description: "add a host, or recover its state after an mtcAgent restart",
  stages: [
    {
      name: "START_DELAY",
      timeoutMs: (c) => c.cfg.timeouts.hostAddDelay * SEC,
      // An HA takeover (issue 12) resumes at once: the hosts were watched until a lease TTL ago.
      run: (c) => (c.env.takeover?.() ? goto("START") : stay),
      onTimeout: () => goto("START"),
      next: [["START", "host_add_delay / HA takeover"]],
    },
    {
      name: "START",
      run: (c) => {
        if (!c.isSelf) {
          c.send("reqMtcAlive", { network: "mgmt", expectAck: false });
          if (c.rec.pxebootIp) c.send("reqMtcAlive", { network: "pxeboot", expectAck: false });
        }
        // Alarms survive the restart (the alarm table reloads); fold them back into the degrade mask.
        if (c.env.alarms.isActive("200.004", c.name)) c.rec.degradeMask |= DegradeMask.Enable;
        if (c.env.alarms.isActive("200.011", c.name)) c.rec.degradeMask |= DegradeMask.Config;
        if (c.isController && !c.isSelf) smNotify(c, c.locked ? "locked" : c.rec.operational === "enabled" ? "unlocked" : "disabled");
        if (c.rec.task === "Swact: In-Progress") c.setTask(c.isSelf ? "Swact: Complete" : "Swact: Not Complete");
        return goto("CLEAR_TASK");
      },
      next: [["CLEAR_TASK"]],
    },
    {
      name: "CLEAR_TASK",
      run: (c) => {
        const cause = AR_CAUSES.find((k) => c.rec.task === AR_DISABLED_TASK[k]);
        if (cause) {
          const ar = c.rec.autoRecovery ?? {};
          c.rec.autoRecovery = ar;
          ar[cause] = { count: ar[cause]?.count ?? c.cfg.autoRecovery[cause].threshold + 1, disabled: true };
          c.raise({ id: "200.004", severity: "critical", text: `${c.name} auto-recovery disabled: ${AR_DISABLED_TASK[cause]}` });
          c.env.persist(c);
          addToHeartbeat(c);
          c.setAction("none");
          return done("pass");
        }
        c.setTask("");
        return goto("START_SERVICES");
      },
      next: [["START_SERVICES"], [END, "auto-recovery disabled: stop here"]],
    },
    {
      name: "START_SERVICES",
      run: (c) => {
        // After an agent restart an in-service host gets its host services (re)started: idempotent on the
        // host, and it covers a host whose services did not start while no agent was watching.
        // An HA takeover is not a restart: the peer agent watched these hosts until a lease TTL ago, so their
        // services are not started again (no host command is repeated because of the failover).
        if (c.locked || c.rec.operational !== "enabled" || c.isSelf || c.env.takeover?.()) return goto("MTC_SERVICES");
        c.hostServices = undefined;
        c.vars.servicesFrom = c.now();
        c.launch("svc.start", () => c.env.messaging.command(c.name, hostServicesCommand(c, "start"), { timeoutMs: c.cfg.timeouts.cmdResponse * SEC }));
        return goto("START_SERVICES_WAIT");
      },
      next: [
        ["START_SERVICES_WAIT", "in-service host"],
        ["MTC_SERVICES", "locked / disabled / self / HA takeover"],
      ],
    },
    {
      name: "START_SERVICES_WAIT",
      timeoutMs: (c) => (c.cfg.timeouts.hostServices + 5 + c.cfg.timeouts.cmdResponse) * SEC,
      run: (c) => {
        const ack = c.outcome("svc.start");
        if (!ack || ack.state === "pending") return stay;
        if (ack.state === "fail") {
          c.env.log.info({ host: c.name, err: ack.error }, "start host services: no ACK");
          return goto("MTC_SERVICES");
        }
        const r = c.hostServices;
        if (!r || r.at < (c.vars.servicesFrom as number)) return stay;
        if (r.rc !== 0) {
          c.env.log.warn({ host: c.name, rc: r.rc, text: r.text }, "start host services failed; re-enabling");
          forceFullEnable(c, "host services failed to start");
          return done("fail");
        }
        return goto("MTC_SERVICES");
      },
      onTimeout: (c) => {
        c.env.log.warn({ host: c.name }, "start host services: no result; continuing");
        return goto("MTC_SERVICES");
      },
      next: [
        ["MTC_SERVICES", "started (or no ACK / no result: logged)"],
        [END, "services failed: full enable"],
      ],
    },
    {
      name: "MTC_SERVICES",
      run: (c) => {
        addToHeartbeat(c);
        const inService = !c.locked && c.rec.operational === "enabled";
        if (inService && !c.isSelf && !c.isAio && c.cfg.heartbeat.failureAction !== "none") return goto("HEARTBEAT_WAIT");
        return goto("DONE");
      },
      next: [["HEARTBEAT_WAIT", "unlocked-enabled, not self"], ["DONE"]],
    },
    {
      name: "HEARTBEAT_WAIT",
      timeoutMs: (c) => (c.env.dorActive() ? Timers.addHeartbeatReadyWaitDor : Timers.addHeartbeatReadyWait),
      run: (c) => {
        if (c.power === "off") {
          c.setState({ oper: "disabled", avail: "power-off" });
          c.setAction("recovery");
          return done("pass");
        }
        // An HA takeover: the hbsAgents kept heartbeating these in-service hosts; no new soak.
        if (c.env.takeover?.()) {
          startHeartbeat(c);
          return goto("DONE");
        }
        if (!c.hbsClientReady) return stay;
        startHeartbeat(c);
        return goto("HEARTBEAT_SOAK");
      },
      onTimeout: (c) => {
        startHeartbeat(c);
        return goto("HEARTBEAT_SOAK");
      },
      next: [["HEARTBEAT_SOAK"], ["DONE", "HA takeover: still heartbeating"], [END, "BMC says powered off: recovery"]],
    },
    {
      name: "HEARTBEAT_SOAK",
      timeoutMs: (c) => c.cfg.timeouts.heartbeatSoak * SEC,
      run: (c) => {
        if (!c.heartbeatLoss) return stay;
        c.setAction("recovery");
        return done("fail");
      },
      onTimeout: () => goto("DONE"),
      next: [
        ["DONE", "soak passed"],
        [END, "loss during soak: recovery"],
      ],
    },
    {
      name: "DONE",
      run: (c) => {
        c.env.alarms.log("200.020", c.name, `${c.name} added to maintenance`);
        c.setAction(c.isAio && c.env.dorActive() && !c.locked ? "enable-subf" : "none");
        return done("pass");
      },
      next: [[END]],
    },
  ],
};
