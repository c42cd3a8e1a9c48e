import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { FakeMachine } from "../testing/fake-bmc.js";
import type { NetworkName } from "../transport/transport.js";
import { LAB_NETWORK_NAME } from "./link-switch.js";
import type { LabStep, MACHINE_ACTIONS } from "./scenario.js";

/** The outcome of one `--do` step: done, or refused with the reason (it goes into the report). */
export type StepVerdict = { ok: true } | { ok: false; reason: string };

/** One simulated machine as the machine actions see it. */
export interface LabMachineHandle {
  readonly hostname: string;
  readonly root: string;
  readonly state: "up" | "booting" | "off" | "dead";
  /** Networks whose cable is cut; they stay cut over reboots until healed. */
  readonly linksDown: Set<NetworkName>;
  /** The machine's fake BMC. */
  readonly bmc: FakeMachine;
}

/** What the lab offers the machine actions. */
export interface LabMachineControl {
  machine(hostname: string): LabMachineHandle | undefined;
  /** Networks the lab provisions on its hosts (a cut of another one is refused). */
  provisioned: readonly NetworkName[];
  /** The machine dies where it stands (no BMC power change). */
  kill(m: LabMachineHandle): void;
  /** A dead or off machine boots. */
  revive(m: LabMachineHandle): void;
  /** Tell the machine's running host process which networks are cut. */
  pushLinks(m: LabMachineHandle): void;
  /** `crash-process`: SIGKILL one process of the machine (pmon-lab.ts). */
  crashProcess(m: LabMachineHandle, name: string | undefined): StepVerdict;
  /** Every machine off, the controller's control plane with it; everything boots after `outageS`. */
  powerOutage(outageS: number): StepVerdict;
}

type MachineAction = (typeof MACHINE_ACTIONS)[number];

/** A flag file name under /var/run, or an absolute path, inside the machine's root. */
export function flagPath(root: string, file: string): string {
  return file.startsWith("/") ? join(root, file) : join(root, "var/run", file);
}

const refuse = (reason: string): StepVerdict => ({ ok: false, reason });

function withMachine(lab: LabMachineControl, step: LabStep, act: (m: LabMachineHandle) => StepVerdict): StepVerdict {
  const m = lab.machine(step.host);
  return m ? act(m) : refuse(`no host named '${step.host}' in this lab`);
}

function link(lab: LabMachineControl, step: LabStep, cut: boolean): StepVerdict {
  return withMachine(lab, step, (m) => {
    const network = LAB_NETWORK_NAME[step.arg as keyof typeof LAB_NETWORK_NAME];
    if (!network) return refuse(`unknown network '${step.arg}'`);
    if (!lab.provisioned.includes(network)) return refuse(`${step.arg} is not provisioned in this lab`);
    if (cut === m.linksDown.has(network)) return refuse(`${step.host}'s ${step.arg} is already ${cut ? "cut" : "connected"}`);
    if (cut) m.linksDown.add(network);
    else m.linksDown.delete(network);
    lab.pushLinks(m);
    return { ok: true };
  });
}

/**
 * The machine-level `--do` actions, one entry each (maintenance actions go through the agent instead): they act on
 * the simulated machines behind maintenance's back, the way a cable, a breaker or SM would.
 */
export const MACHINE_ACTION_HANDLERS: Readonly<Record<MachineAction, (lab: LabMachineControl, step: LabStep) => StepVerdict>> = {
  kill: (lab, step) =>
    withMachine(lab, step, (m) => {
      if (m.state === "dead" || m.state === "off") return refuse(`${m.hostname} is already ${m.state}`);
      lab.kill(m);
      return { ok: true };
    }),
  revive: (lab, step) =>
    withMachine(lab, step, (m) => {
      if (m.state !== "dead" && m.state !== "off") return refuse(`${m.hostname} is ${m.state}, not dead or off`);
      lab.revive(m);
      return { ok: true };
    }),
  cut: (lab, step) => link(lab, step, true),
  heal: (lab, step) => link(lab, step, false),
  "bmc-off": (lab, step) =>
    withMachine(lab, step, (m) => {
      if (m.bmc.unreachable) return refuse(`${m.hostname}'s BMC is already off`);
      m.bmc.unreachable = true;
      return { ok: true };
    }),
  "bmc-on": (lab, step) =>
    withMachine(lab, step, (m) => {
      if (!m.bmc.unreachable) return refuse(`${m.hostname}'s BMC is already on`);
      m.bmc.unreachable = false;
      return { ok: true };
    }),
  // The BMC takes power requests but the server's power stays as it is (a stuck power controller), until unstuck.
  "power-stuck": (lab, step) =>
    withMachine(lab, step, (m) => {
      if (m.bmc.powerStuck) return refuse(`${m.hostname}'s power is already stuck`);
      m.bmc.powerStuck = true;
      return { ok: true };
    }),
  "power-unstuck": (lab, step) =>
    withMachine(lab, step, (m) => {
      if (!m.bmc.powerStuck) return refuse(`${m.hostname}'s power is not stuck`);
      m.bmc.powerStuck = false;
      return { ok: true };
    }),
  "set-flag": (lab, step) =>
    withMachine(lab, step, (m) => {
      const path = flagPath(m.root, step.arg as string);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, "");
      return { ok: true };
    }),
  "clear-flag": (lab, step) =>
    withMachine(lab, step, (m) => {
      rmSync(flagPath(m.root, step.arg as string), { force: true });
      return { ok: true };
    }),
  "power-outage": (lab, step) => lab.powerOutage(step.arg ? Number(step.arg) : 30),
  "crash-process": (lab, step) => withMachine(lab, step, (m) => lab.crashProcess(m, step.arg)),
};
