import { ADMIN_ACTIONS, type AdminAction } from "../inventory/host.js";
import type { HostCtx } from "./host-context.js";

export type ActionVerdict = { ok: true; queued: boolean } | { ok: false; reason: string };

/** Actions an operator may request (the rest are maintenance's own: add, recovery, enable, enable-subf, powercycle). */
export const OPERATOR_ACTIONS = [
  "lock",
  "force-lock",
  "unlock",
  "reboot",
  "reset",
  "reinstall",
  "power-on",
  "power-off",
  "swact",
  "force-swact",
  "delete",
] as const;
const MAX_QUEUED = 2;
const OOS = new Set<string>(["power-off", "reset", "reboot", "reinstall"]);

/**
 * mod_host + adminActionChange (reference §1.3, §2.1, §2.2): validate an operator action with the
 * reference's rejection reasons, then start it, queue it (only while add or force-lock runs; at most 2,
 * no duplicates), or replace the current action.
 */
export function requestAction(c: HostCtx, action: string): ActionVerdict {
  if (!(ADMIN_ACTIONS as readonly string[]).includes(action) || !(OPERATOR_ACTIONS as readonly string[]).includes(action)) {
    return { ok: false, reason: `unsupported action '${action}'` };
  }
  const a = action as AdminAction;
  const r = c.rec;
  const unlocked = r.administrative === "unlocked";
  if (unlocked && OOS.has(a)) return { ok: false, reason: "Cannot perform out-of-service action against in-service host" };
  if ((a === "lock" || a === "force-lock") && !unlocked && c.action !== "unlock") return { ok: false, reason: `${c.name} is already locked` };
  if (a === "unlock" && unlocked && c.action !== "lock" && c.action !== "force-lock") return { ok: false, reason: `${c.name} is already unlocked` };
  if ((a === "lock" || a === "force-lock") && c.isSelf && !c.inServicePeerController()) {
    return { ok: false, reason: "Cannot lock the active controller; swact to the standby controller first" };
  }
  if (a === "delete" && unlocked) return { ok: false, reason: "Cannot delete an unlocked host; lock it first" };
  if (a === "swact" || a === "force-swact") {
    if (!c.isController) return { ok: false, reason: "Swact is only supported for controllers" };
    if (!c.inServicePeerController()) return { ok: false, reason: "Swact requires an in-service standby controller" };
    for (const h of c.env.hosts()) if (h.action === "swact" || h.action === "force-swact") return { ok: false, reason: "Swact already in progress" };
    if (c.action !== "none" && c.action !== "add") return { ok: false, reason: `Cannot swact while '${c.action}' is in progress` };
    if (c.alive && c.alive.flags & 0x100) return { ok: false, reason: "Cannot swact while patching is in progress" };
  }
  if (a === "reset" || a === "power-on" || a === "power-off" || a === "reinstall") {
    const bmc = c.bmc();
    if (!bmc && a !== "reinstall")
      return { ok: false, reason: `${a === "reset" ? "Reset" : a === "power-on" ? "Power-On" : "Power-Off"} Failed - BMC is not provisioned` };
    if (a === "reset" && r.availability === "power-off") return { ok: false, reason: `Reset Failed - ${c.name} is powered off` };
  }
  if (a === "unlock" && c.alive && c.alive.flags & 0x100) return { ok: false, reason: "Cannot unlock while patching is in progress" };

  if (c.action === "add" || c.action === "force-lock") {
    if (c.action === a || c.queue.includes(a)) return { ok: false, reason: `'${a}' is already queued` };
    if (c.queue.length >= MAX_QUEUED) return { ok: false, reason: "too many queued actions; try again later" };
    c.queue.push(a);
    return { ok: true, queued: true };
  }
  c.queue.length = 0;
  // Any operator action takes the host out of a critical-sensor power-down hold.
  c.heldPoweredDown = false;
  c.setAction(a);
  return { ok: true, queued: false };
}
