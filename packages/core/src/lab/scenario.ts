/**
 * `metal lab --do "T:ACTION HOST"`: an action applied at lab time T (seconds). Maintenance actions go through
 * the agent exactly as an operator's would; kill and revive act on the simulated machine itself.
 */
export const LAB_ACTIONS = ["lock", "unlock", "force-lock", "reboot", "reset", "power-off", "power-on", "reinstall", "swact", "kill", "revive"] as const;
export type LabAction = (typeof LAB_ACTIONS)[number];

export interface LabStep {
  /** Lab seconds after the start, or after every host was first unlocked-enabled-available (`ready+N`). */
  atS: number;
  afterReady: boolean;
  action: LabAction;
  host: string;
}

const STEP = /^\s*(ready\+)?(\d+(?:\.\d+)?)\s*:\s*([a-z-]+)\s+([a-z0-9][a-z0-9-]{0,62})\s*$/;

/** Parse one `--do` value; throws with the reason when it is not `T:ACTION HOST`. */
export function parseLabStep(text: string): LabStep {
  const m = STEP.exec(text);
  if (!m) throw new Error(`--do '${text}': expected "T:ACTION HOST" or "ready+T:ACTION HOST", e.g. "30:lock worker-1"`);
  const [, ready, at, action, host] = m as unknown as [string, string | undefined, string, string, string];
  if (!(LAB_ACTIONS as readonly string[]).includes(action)) throw new Error(`--do '${text}': unknown action '${action}' (one of ${LAB_ACTIONS.join(", ")})`);
  const atS = Number(at);
  if (atS > 86_400) throw new Error(`--do '${text}': T must be at most 86400 s`);
  return { atS, afterReady: ready !== undefined, action: action as LabAction, host };
}

/** The lab's host names: controller-0 (and -1), storage-0.., worker-0.. */
export function labHostnames(o: {
  controllers: number;
  storage: number;
  workers: number;
}): Array<{ hostname: string; personality: "controller" | "storage" | "worker" }> {
  const out: Array<{ hostname: string; personality: "controller" | "storage" | "worker" }> = [];
  for (let i = 0; i < o.controllers; i++) out.push({ hostname: `controller-${i}`, personality: "controller" });
  for (let i = 0; i < o.storage; i++) out.push({ hostname: `storage-${i}`, personality: "storage" });
  for (let i = 0; i < o.workers; i++) out.push({ hostname: `worker-${i}`, personality: "worker" });
  return out;
}
