import { offlineTimeoutMs, SEC } from "./common.js";
import { done, END, goto, type HandlerDef, type RunHolder, stay, stepHandler } from "./engine.js";
import type { HostCtx } from "./host-context.js";

/**
 * Reset progression (reference §2.9, §6.3): reboot requests on every provisioned network, then a BMC reset
 * after `bmc_reset_delay`, cancelled when the host is back; each cycle ends with an offline check.
 * Run as a sub-machine by enable, force-lock and admin reboot (`runResetProgression`).
 */
const MAX_REBOOTS_B4_RESET = 5;
const MAX_REBOOTS_B4_RETRY = 7;

interface RpVars {
  /** parm1: progression retries allowed; parm2: retries done. */
  retries: number;
  retry: number;
  cmdRetries: number;
  taskUpdates: boolean;
  resetSince: number;
}

const rp = (c: HostCtx) => c.vars.rp as RpVars;
const task = (c: HostCtx, t: string) => {
  if (rp(c).taskUpdates) c.setTask(t);
};

export const resetProgression: HandlerDef<HostCtx> = {
  name: "reset-progression",
  description: "reboot on every network x5, BMC reset after bmc_reset_delay (cancelled if the host is back), offline check, retries",
  stages: [
    {
      name: "RESET_PROGRESSION_START",
      run: (c) => {
        task(c, "Reboot Request");
        c.offline.active = true;
        c.offline.count = 0;
        rp(c).cmdRetries = 0;
        return goto("REBOOT");
      },
      next: [["REBOOT"]],
    },
    {
      name: "REBOOT",
      run: (c) => {
        c.launch("rp.reboot", () => c.env.messaging.command(c.name, "reboot", { network: "all", timeoutMs: c.cfg.timeouts.cmdResponse * SEC }));
        return goto("REBOOT_ACK");
      },
      next: [["REBOOT_ACK", "sent on every network"]],
    },
    {
      name: "REBOOT_ACK",
      run: (c) => {
        const o = c.outcome("rp.reboot");
        if (!o || o.state === "pending") return stay;
        const v = rp(c);
        v.cmdRetries++;
        if (o.state === "ok") {
          task(c, "Rebooting");
          c.rec.uptime = 0;
          if (v.cmdRetries < MAX_REBOOTS_B4_RESET || !c.bmcProvisioned()) return goto("OFFLINE_CHECK");
          v.resetSince = c.now();
          return goto("RESET");
        }
        if (v.cmdRetries === 1) task(c, "Reboot Failed");
        if (v.cmdRetries < MAX_REBOOTS_B4_RESET) return goto("REBOOT");
        if (!c.bmcProvisioned()) return goto("OFFLINE_CHECK");
        v.resetSince = c.now();
        return goto("RESET");
      },
      next: [
        ["OFFLINE_CHECK", "ACK"],
        ["REBOOT", "no ACK, retry"],
        ["RESET", "5 reboots, BMC provisioned"],
      ],
    },
    {
      name: "RESET",
      // bmc_reset_delay minus the time the 5 reboot tries already took: a crash-dump grace period.
      timeoutMs: (c) => Math.max(0, c.cfg.timeouts.bmcResetDelay - MAX_REBOOTS_B4_RESET * 10) * SEC,
      run: (c) => {
        // Cancel the reset when the host came back by itself: online, fresh uptime, mtcAlive on every network.
        const since = rp(c).resetSince;
        // The mtcAlive gate is closed during an enable's progression, so look at what arrived regardless of it.
        const fresh = c.rec.uptime < 300 && (c.aliveAt.get("mgmt") ?? 0) >= since;
        const nets = (["mgmt", "clusterHost", "pxeboot"] as const).filter((n) => n === "mgmt" || (n === "clusterHost" ? c.rec.clusterHostIp : c.rec.pxebootIp));
        if (fresh && nets.every((n) => (c.aliveAt.get(n) ?? 0) >= since)) {
          c.env.log.info({ host: c.name }, "host is back; BMC reset cancelled");
          return done("pass");
        }
        return stay;
      },
      onTimeout: (c) => {
        const bmc = c.bmc();
        if (!bmc?.power) return goto("OFFLINE_CHECK");
        task(c, "Reset Request");
        c.launch("rp.reset", () => (bmc.power as NonNullable<typeof bmc.power>).set("reset"));
        return goto("RESET_ACK");
      },
      next: [
        ["RESET_ACK", "bmc_reset_delay: BMC reset"],
        ["OFFLINE_CHECK", "no BMC"],
        [END, "host back, reset cancelled"],
      ],
    },
    {
      name: "RESET_ACK",
      timeoutMs: () => 10 * SEC,
      run: (c) => {
        const o = c.outcome("rp.reset");
        if (o?.state === "fail") {
          c.env.log.warn({ host: c.name, err: o.error }, "BMC reset failed");
          return goto("RESET_PROGRESSION_RETRY");
        }
        return stay;
      },
      onTimeout: (c) => {
        if (c.outcome("rp.reset")?.state !== "ok") return goto("RESET_PROGRESSION_RETRY");
        task(c, "Resetting");
        return goto("OFFLINE_CHECK");
      },
      next: [
        ["OFFLINE_CHECK", "reset accepted"],
        ["RESET_PROGRESSION_RETRY", "BMC unreachable / no response"],
      ],
    },
    {
      name: "OFFLINE_CHECK",
      timeoutMs: (c) => offlineTimeoutMs(c),
      run: (c) => (c.rec.availability === "offline" || c.rec.availability === "power-off" ? done("pass") : stay),
      onTimeout: (c) => (rp(c).cmdRetries >= MAX_REBOOTS_B4_RETRY ? goto("RESET_PROGRESSION_RETRY") : goto("REBOOT")),
      next: [
        [END, "offline"],
        ["REBOOT", "still online"],
        ["RESET_PROGRESSION_RETRY", "7 tries"],
      ],
    },
    {
      name: "RESET_PROGRESSION_RETRY",
      run: (c) => {
        const v = rp(c);
        if (++v.retry > v.retries) return done("fail");
        return goto("RESET_PROGRESSION_START");
      },
      next: [
        ["RESET_PROGRESSION_START", "retry"],
        [END, "retries exhausted"],
      ],
    },
  ],
};

/** Begin a reset progression as a sub-machine of the running handler. */
export function beginResetProgression(c: HostCtx, retries: number, taskUpdates: boolean): void {
  c.vars.rp = { retries, retry: 0, cmdRetries: 0, taskUpdates, resetSince: 0 } satisfies RpVars;
  c.vars.rpHolder = {} as RunHolder;
}

/** Step the sub-machine; undefined while running, then "pass" or "fail". */
export function stepResetProgression(c: HostCtx): "pass" | "fail" | undefined {
  const holder = c.vars.rpHolder as RunHolder | undefined;
  if (!holder) return "fail";
  if (holder.run?.result) return holder.run.result;
  return stepHandler(c, resetProgression, holder) ? holder.run?.result : undefined;
}
