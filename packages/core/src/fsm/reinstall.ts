import { powerSet, powerStatus } from "./bmc-power.js";
import { holdThenClearTask, SEC, Timers } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { finishStage } from "./stages.js";

/**
 * Reinstall (reference §2.13). With a BMC: power off, network boot once, power on, offline → online.
 * Without: WIPEDISK (ACK within 10 s) then offline → online. No automatic retry.
 */
const onlineWaitMs = (c: HostCtx) => c.bootTimeoutMs() + Math.min(14_400, Math.max(60, c.cfg.timeouts.nodeReinstall)) * SEC;

function fail(c: HostCtx, why: string) {
  c.setTask(`Reinstall Failed ; ${why}`);
  return goto("FAIL");
}

export const reinstallHandler: HandlerDef<HostCtx> = {
  name: "reinstall",
  description: "reinstall a locked host, through its BMC (network boot) or by wiping its disk",
  stages: [
    {
      name: "START",
      run: (c) => {
        c.env.alarms.log("200.021", c.name, `${c.name} reinstall`);
        c.setTask("Reinstalling");
        if (!c.bmc()?.power) return goto("WIPEDISK");
        return goto("START_WAIT");
      },
      next: [
        ["START_WAIT", "BMC provisioned"],
        ["WIPEDISK", "no BMC"],
      ],
    },
    {
      name: "START_WAIT",
      timeoutMs: () => Timers.reinstallBmcAccess,
      run: (c) => {
        const o = c.outcome<string>("q");
        if (!o) c.launch("q", () => powerStatus(c));
        else if (o.state === "ok") return o.value === "on" ? goto("POWEROFF") : goto("NETBOOT");
        else if (o.state === "fail") {
          c.setTask("Reinstall Wait ; BMC not accessible");
          c.forget("q");
        }
        return stay;
      },
      onTimeout: (c) => fail(c, "BMC not accessible"),
      next: [
        ["POWEROFF", "power on"],
        ["NETBOOT", "power off"],
        ["FAIL", "BMC not accessible for 10 min"],
      ],
    },
    {
      name: "POWEROFF",
      run: (c) => {
        c.launch("off", () => powerSet(c, "off"));
        return goto("POWEROFF_WAIT");
      },
      next: [["POWEROFF_WAIT"]],
    },
    {
      name: "POWEROFF_WAIT",
      timeoutMs: () => 60 * SEC,
      run: (c) => {
        const o = c.outcome("off");
        if (o?.state === "fail") return fail(c, "BMC connectivity lost");
        return o?.state === "ok" ? goto("NETBOOT") : stay;
      },
      onTimeout: (c) => fail(c, "power-off timeout"),
      next: [["NETBOOT"], ["FAIL", "BMC lost / timeout"]],
    },
    {
      name: "NETBOOT",
      run: (c) => {
        const bmc = c.bmc();
        c.launch("boot", async () => {
          if (!bmc?.bootDevice) throw new Error("BMC cannot set the boot device");
          await bmc.bootDevice.set("pxe", { persistent: false });
        });
        return goto("NETBOOT_WAIT");
      },
      next: [["NETBOOT_WAIT"]],
    },
    {
      name: "NETBOOT_WAIT",
      timeoutMs: () => 30 * SEC,
      run: (c) => {
        const o = c.outcome("boot");
        if (o?.state === "fail") return fail(c, o.error.includes("boot device") ? "BMC cannot network boot" : "BMC connectivity lost");
        return o?.state === "ok" ? goto("POWERON") : stay;
      },
      onTimeout: (c) => fail(c, "boot device timeout"),
      next: [["POWERON"], ["FAIL"]],
    },
    {
      name: "POWERON",
      run: (c) => {
        c.launch("on", () => powerSet(c, "on"));
        return goto("POWERON_WAIT");
      },
      next: [["POWERON_WAIT"]],
    },
    {
      name: "POWERON_WAIT",
      timeoutMs: () => 30 * SEC,
      run: (c) => {
        const o = c.outcome("on");
        if (o?.state === "fail") return fail(c, "BMC connectivity lost");
        if (o?.state !== "ok") return stay;
        c.setState({ avail: "offline" });
        c.vars.downAt = c.now();
        return goto("ONLINE_WAIT");
      },
      onTimeout: (c) => fail(c, "power-on timeout"),
      next: [["ONLINE_WAIT", "powered on"], ["FAIL"]],
    },
    {
      name: "WIPEDISK",
      run: (c) => {
        c.launch("wipe", () => c.env.messaging.command(c.name, "wipedisk", { timeoutMs: c.cfg.timeouts.cmdResponse * SEC }));
        return goto("WIPEDISK_WAIT");
      },
      next: [["WIPEDISK_WAIT"]],
    },
    {
      name: "WIPEDISK_WAIT",
      run: (c) => {
        const o = c.outcome("wipe");
        if (!o || o.state === "pending") return stay;
        if (o.state === "fail") return fail(c, "no response to wipedisk request");
        c.offline.active = true;
        c.offline.count = 0;
        return goto("OFFLINE_WAIT");
      },
      next: [
        ["OFFLINE_WAIT", "ACK"],
        ["FAIL", "no ACK"],
      ],
    },
    {
      name: "OFFLINE_WAIT",
      timeoutMs: () => Timers.resetToOffline,
      run: (c) => {
        if (c.rec.availability !== "offline") return stay;
        c.vars.downAt = c.now();
        return goto("ONLINE_WAIT");
      },
      onTimeout: (c) => fail(c, "offline timeout"),
      next: [
        ["ONLINE_WAIT", "offline"],
        ["FAIL", "did not go offline"],
      ],
    },
    {
      name: "ONLINE_WAIT",
      timeoutMs: (c) => onlineWaitMs(c),
      run: (c) => (c.aliveSince(c.vars.downAt as number) ? goto("DONE") : stay),
      onTimeout: (c) => fail(c, "online timeout"),
      next: [
        ["DONE", "mtcAlive from the new install"],
        ["FAIL", "online timeout"],
      ],
    },
    {
      name: "DONE",
      run: (c) => {
        c.env.alarms.log("200.022", c.name, `${c.name} reinstall completed`);
        c.setAction("none");
        holdThenClearTask(c, "Reinstall Succeeded");
        return done("pass");
      },
      next: [[END]],
    },
    finishStage("FAIL"),
  ],
};
