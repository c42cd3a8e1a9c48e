import type { AdminAction } from "../inventory/host.js";
import type { HostRecord } from "../inventory/store.js";
import { OPERATOR_ACTIONS } from "./admin-actions.js";

/**
 * What a restarted mtcAgent runs for a stored host (reference §2.3 add_handler, §2.18): every host first goes
 * through the add handler, which recovers its state; an operator action that was running when the agent
 * stopped is put back at the head of the queue, ahead of the actions that were queued behind it, so it is
 * carried out once add is done. A delete in progress just finishes. Maintenance's own actions (recovery,
 * enable, enable-subf, powercycle) are not resumed: the dispatcher derives them again from the host's state.
 */
export function recoveredActions(rec: Pick<HostRecord, "action" | "queued">): { action: AdminAction; queue: AdminAction[] } {
  const queued = (rec.queued ?? []) as AdminAction[];
  if (rec.action === "delete") return { action: "delete", queue: [] };
  const running = rec.action as AdminAction;
  const resume = running !== "delete" && (OPERATOR_ACTIONS as readonly string[]).includes(running) ? [running] : [];
  const queue: AdminAction[] = [];
  for (const a of [...resume, ...queued]) if (!queue.includes(a)) queue.push(a);
  return { action: "add", queue };
}
