import { addHandler } from "./add.js";
import { degradeAudit, inServiceTest, offlineAudit, onlineAudit } from "./audits.js";
import { deleteHandler } from "./delete.js";
import { disableHandler } from "./disable.js";
import { enableHandler } from "./enable.js";
import { type HandlerDef, stepHandler } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { powerHandler } from "./power.js";
import { powercycleHandler } from "./powercycle.js";
import { rebootHandler } from "./reboot.js";
import { recoveryHandler } from "./recovery.js";
import { reinstallHandler } from "./reinstall.js";
import { resetHandler } from "./reset.js";
import { subfEnableHandler } from "./subf-enable.js";
import { swactHandler } from "./swact.js";

const OUT_OF_SERVICE_UNLOCKED = new Set(["failed", "intest", "offline", "online"]);

/** Which handler owns the host now: the exclusive chain of reference §2.2 step 6. */
export function pickHandler(c: HostCtx): HandlerDef<HostCtx> | undefined {
  const r = c.rec;
  const a = c.action;
  const unlocked = r.administrative === "unlocked";
  switch (a) {
    case "delete":
      return deleteHandler;
    case "add":
      return addHandler;
    case "reset":
      return resetHandler;
    case "reboot":
      return rebootHandler;
    case "enable":
      return enableHandler;
    case "recovery":
      return unlocked ? recoveryHandler : undefined;
    case "unlock":
      return enableHandler;
    case "enable-subf":
      return subfEnableHandler;
    case "lock":
    case "force-lock":
      return disableHandler;
    case "reinstall":
      return reinstallHandler;
    case "power-on":
    case "power-off":
      return powerHandler;
    case "swact":
    case "force-swact":
      return swactHandler;
    case "powercycle":
      return powercycleHandler;
    case "none":
      if (!unlocked || c.arDisabled) return undefined;
      if (r.operational === "enabled" && r.availability === "failed") return enableHandler;
      if (r.operational === "enabled" && r.availability === "offline") {
        c.setAction("recovery");
        return recoveryHandler;
      }
      if (r.availability === "power-off" && !c.heldPoweredDown) {
        c.setAction("power-on");
        return powerHandler;
      }
      if (r.operational === "disabled" && OUT_OF_SERVICE_UNLOCKED.has(r.availability)) return enableHandler;
      return undefined;
    default:
      return undefined;
  }
}

/** One scheduler pass for one host. */
export function dispatch(c: HostCtx): void {
  degradeAudit(c);
  offlineAudit(c);
  onlineAudit(c);
  const handler = pickHandler(c);
  if (handler) {
    const finished = stepHandler(c, handler);
    if (finished && c.action === "none") startQueued(c);
    return;
  }
  if (c.run && !c.run.result) c.run.result = "fail"; // the action went away under a running handler
  if (c.action === "none") {
    if (c.queue.length) startQueued(c);
    else inServiceTest(c);
  }
}

/** When the current action returns to none, the next queued action runs (adminActionChange). */
function startQueued(c: HostCtx): void {
  const next = c.queue.shift();
  if (next) c.setAction(next);
}
