/**
 * `metal lab --do "T:ACTION HOST [ARG]"`: an action applied at lab time T (seconds). Maintenance actions go through
 * the agent exactly as an operator's would; the machine actions (kill, revive, cut, heal, bmc-off, bmc-on, power-stuck,
 * power-unstuck, set-flag, clear-flag, power-outage) act on the simulated machines behind maintenance's back (lab/machine-actions.ts).
 * A `!` before the action says the step is meant to be refused (a refusal then does not fail the run).
 */
export const MAINTENANCE_ACTIONS = ["lock", "unlock", "force-lock", "reboot", "reset", "power-off", "power-on", "reinstall", "swact"] as const;
export const MACHINE_ACTIONS = [
  "kill",
  "revive",
  "cut",
  "heal",
  "bmc-off",
  "bmc-on",
  "power-stuck",
  "power-unstuck",
  "set-flag",
  "clear-flag",
  "power-outage",
  "crash-process",
] as const;
/**
 * The controller pair's actions (`metal lab --controllers 2 --store etcd`, lab/ha-lab.ts): on a controller's agent
 * process (SIGKILL, SIGSTOP, SIGCONT, start again) or on etcd member N (SIGKILL, start again on its data dir).
 */
export const HA_ACTIONS = ["kill-agent", "pause-agent", "resume-agent", "revive-agent", "kill-etcd", "revive-etcd"] as const;
export const LAB_ACTIONS = [...MAINTENANCE_ACTIONS, ...MACHINE_ACTIONS, ...HA_ACTIONS] as const;
export type LabAction = (typeof LAB_ACTIONS)[number];

/** The networks `cut`/`heal` name, as operators write them. */
export const LAB_NETWORKS = ["mgmt", "cluster-host", "pxeboot"] as const;
export type LabNetwork = (typeof LAB_NETWORKS)[number];

/** What the third word of a step is, for the actions that take one. */
export const LAB_ACTION_ARG: Readonly<Partial<Record<LabAction, { required: boolean; what: string }>>> = {
  cut: { required: true, what: "NET (mgmt, cluster-host or pxeboot)" },
  heal: { required: true, what: "NET (mgmt, cluster-host or pxeboot)" },
  "set-flag": { required: true, what: "FILE (a flag file name such as .sm_node_unhealthy, or a path such as /var/run/.sm_degraded)" },
  "clear-flag": { required: true, what: "FILE (a flag file name such as .sm_node_unhealthy, or a path such as /var/run/.sm_degraded)" },
  "power-outage": { required: false, what: "S (lab seconds every machine stays off; default 30)" },
  "crash-process": { required: true, what: "NAME (a process pmond monitors, such as hbsClient or mtcClient, or pmond itself)" },
};

export interface LabStep {
  /** Lab seconds after the start, or after every host was first unlocked-enabled-available (`ready+N`). */
  atS: number;
  afterReady: boolean;
  action: LabAction;
  /** The host, or "all" for power-outage. */
  host: string;
  /** The action's argument: a network, a flag file, an outage length. */
  arg?: string;
  /** Written `!ACTION`: the step is meant to be refused. */
  expectRefused: boolean;
  /** The step as written, for the report. */
  text: string;
}

const STEP = /^\s*(ready\+)?(\d+(?:\.\d+)?)\s*:\s*(!?)([a-z-]+)(?:\s+([a-z0-9][a-z0-9-]{0,62}))?(?:\s+(\S{1,200}))?\s*$/;
/** A flag file: a bare name (under /var/run) or an absolute path of plain segments inside the node's root. */
const FLAG_FILE = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,99}|\.[A-Za-z0-9_][A-Za-z0-9._-]{0,99}|(?:\/[A-Za-z0-9_.][A-Za-z0-9._-]{0,99}){1,8})$/;

/** Parse one `--do` value; throws with the reason when it is not `T:ACTION HOST [ARG]`. */
export function parseLabStep(text: string): LabStep {
  const m = STEP.exec(text);
  const shape = `expected "T:ACTION HOST [ARG]" or "ready+T:ACTION HOST [ARG]", e.g. "30:lock worker-1" or "ready+5:cut worker-0 mgmt"`;
  if (!m) throw new Error(`--do '${text}': ${shape}`);
  const [, ready, at, bang, action, host, arg] = m as unknown as [string, string | undefined, string, string, string, string | undefined, string | undefined];
  if (!(LAB_ACTIONS as readonly string[]).includes(action)) throw new Error(`--do '${text}': unknown action '${action}' (one of ${LAB_ACTIONS.join(", ")})`);
  const a = action as LabAction;
  const atS = Number(at);
  if (atS > 86_400) throw new Error(`--do '${text}': T must be at most 86400 s`);
  let target = host;
  let argument = arg;
  if (a === "power-outage") {
    // "power-outage", "power-outage all", "power-outage 60", "power-outage all 60"
    if (target !== undefined && target !== "all") {
      if (argument !== undefined || !/^\d+$/.test(target))
        throw new Error(`--do '${text}': power-outage takes no host (every machine goes off), only an optional S`);
      argument = target;
    }
    target = "all";
    if (argument !== undefined && !(/^\d+$/.test(argument) && Number(argument) >= 1 && Number(argument) <= 86_400))
      throw new Error(`--do '${text}': the outage must be 1..86400 lab seconds`);
  } else if (target === undefined) throw new Error(`--do '${text}': ${shape}`);
  const spec = LAB_ACTION_ARG[a];
  if (!spec && argument !== undefined) throw new Error(`--do '${text}': ${a} takes no argument`);
  if (spec?.required && argument === undefined) throw new Error(`--do '${text}': ${a} needs ${spec.what}`);
  if ((a === "cut" || a === "heal") && !(LAB_NETWORKS as readonly string[]).includes(argument as string))
    throw new Error(`--do '${text}': unknown network '${argument}' (one of ${LAB_NETWORKS.join(", ")})`);
  if (a === "crash-process" && !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(argument as string))
    throw new Error(`--do '${text}': '${argument}' is not a process name`);
  if ((a === "set-flag" || a === "clear-flag") && !(FLAG_FILE.test(argument as string) && !(argument as string).split("/").includes("..")))
    throw new Error(`--do '${text}': '${argument}' is not a flag file name or a plain absolute path`);
  return {
    atS,
    afterReady: ready !== undefined,
    action: a,
    host: target,
    ...(argument !== undefined ? { arg: argument } : {}),
    expectRefused: bang === "!",
    text: text.trim(),
  };
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
