/**
 * The install `traits=` contract (reference B.6): a comma list of controller, worker, storage, lowlatency.
 * Valid sets: controller; controller,worker (All-in-one); controller,worker,lowlatency; storage; worker;
 * worker,lowlatency. storage combines with nothing.
 */
export const TRAITS = ["controller", "worker", "storage", "lowlatency"] as const;
export type Trait = (typeof TRAITS)[number];

export interface InstallRole {
  /** platform.conf nodetype: controller if present, else storage, else worker. */
  nodetype: "controller" | "worker" | "storage";
  /** controller + worker. */
  aio: boolean;
  lowlatency: boolean;
}

export class TraitsError extends Error {
  override readonly name = "TraitsError";
}

export function parseTraits(text: string): InstallRole {
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) throw new TraitsError("traits are empty (expected e.g. controller, controller,worker, worker,lowlatency, storage)");
  const unknown = items.filter((i) => !(TRAITS as readonly string[]).includes(i));
  if (unknown.length) throw new TraitsError(`unknown trait(s) ${unknown.join(",")} (known: ${TRAITS.join(", ")})`);
  const set = new Set(items as Trait[]);
  if (set.size !== items.length) throw new TraitsError(`traits '${text}' repeat a trait`);
  const has = (t: Trait) => set.has(t);
  if (has("storage") && set.size > 1) throw new TraitsError(`storage cannot be combined with ${[...set].filter((t) => t !== "storage").join(",")}`);
  if (has("lowlatency") && !has("worker")) throw new TraitsError("lowlatency needs worker (worker,lowlatency or controller,worker,lowlatency)");
  if (!has("controller") && !has("worker") && !has("storage")) throw new TraitsError("traits name no personality (controller, worker or storage)");
  return {
    nodetype: has("controller") ? "controller" : has("storage") ? "storage" : "worker",
    aio: has("controller") && has("worker"),
    lowlatency: has("lowlatency"),
  };
}

/** The canonical traits string, in the order the templates use; it is also platform.conf's `subfunction`. */
export function traitsString(role: InstallRole): string {
  const t: string[] = [role.nodetype === "worker" || role.aio ? (role.aio ? "controller,worker" : "worker") : role.nodetype];
  if (role.lowlatency) t.push("lowlatency");
  return t.join(",");
}

/** platform.conf system_type. */
export function systemType(role: InstallRole): "All-in-one" | "Standard" {
  return role.aio ? "All-in-one" : "Standard";
}
