/**
 * The lab's side of pmond (issue 13): every machine boots as pmon-host.ts (init + pmond + hostwd, mtcClient and
 * hbsClient as pmond's children), each in its own process group; `--do "T:crash-process HOST NAME"` kills one
 * process of a machine by its pidfile (pmond included); the pmon events the control plane receives are kept per
 * host for the `--json` report.
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { HeartbeatEvent, HostMessage } from "../agent/ports.js";
import type { MetalConfigInput } from "../config/index.js";
import { pmonEventKind } from "../pmon/pmon-messages.js";
import { freeUdpPorts } from "../transport/free-ports.js";
import type { StepVerdict } from "./machine-actions.js";
import type { LabHostArgs } from "./maintenance-host.js";
import { PMON_HOST_ENTRY, type PmonHostArgs, writePmonHostArgs } from "./pmon-host.js";

/** One pmon happening on a host, in lab seconds. */
export interface LabPmonEvent {
  atS: number;
  /** clear, log, minor, major, critical (from pmond); pmond-missing, pmond-back (from the hbsAgent); crashed (the lab's step). */
  event: string;
  process: string;
  reason?: string;
}

export interface PmonLabOptions {
  /** Extra or changed process confs on every host: name → INI fields (a new name runs `sleep` under pmond). */
  pmonConfs?: Record<string, Record<string, string | number>>;
  /** Real ms before a crashed pmond is started again (default 20 s: the 'pmond' alarm shows first). */
  pmondRestartMs?: number;
}

const PROCESS = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** `--pmon-conf NAME:key=value,key=value` into the map PmonLabOptions.pmonConfs takes; throws with the reason. */
export function parsePmonConfOption(text: string, prev: Record<string, Record<string, string>> = {}): Record<string, Record<string, string>> {
  const m = /^([A-Za-z0-9][A-Za-z0-9._@-]{0,63}):((?:[a-z_]{1,32}=[^,=\s]{1,200},?)+)$/.exec(text.trim());
  if (!m) throw new Error(`--pmon-conf '${text}': expected NAME:key=value[,key=value...], e.g. labsvc:severity=critical,restarts=0`);
  const [, name, body] = m as unknown as [string, string, string];
  const fields: Record<string, string> = { ...prev[name] };
  for (const kv of body.split(",").filter(Boolean)) {
    const [k, v] = kv.split("=") as [string, string];
    if (k === "command" || k === "process") throw new Error(`--pmon-conf '${text}': ${k} cannot be set from the command line`);
    fields[k] = v;
  }
  return { ...prev, [name]: fields };
}

export class PmonLab {
  private readonly events = new Map<string, LabPmonEvent[]>();

  private constructor(
    private readonly speed: number,
    private readonly ports: { pmonPulse: number; amon: number; mtcClient: number; hbsClient: number },
    private readonly o: PmonLabOptions,
    private readonly labS: () => number,
  ) {}

  static async create(speed: number, o: PmonLabOptions, labS: () => number): Promise<PmonLab> {
    // The active-monitor ports too: two labs (or a lab and a test) on one machine must not share the reference's
    // fixed 2201/2202, since the lab's host addresses are the same in every lab.
    const [pmonPulse, amon, mtcClient, hbsClient] = (await freeUdpPorts(4)) as [number, number, number, number];
    return new PmonLab(speed, { pmonPulse, amon, mtcClient, hbsClient }, o, labS);
  }

  /** What a lab host's config needs for pmond: its own loopback address, the pulse port, lab-speed periods. */
  hostConfig(ip: string, root: string): Pick<MetalConfigInput, "pmon"> & { pmonPulse: number } {
    return {
      pmonPulse: this.ports.pmonPulse,
      pmon: {
        loopbackAddress: ip,
        amonPort: this.ports.amon,
        // pmond runs on lab time: pulse every 500 real ms (hbsClient counts in real time), audit every 50 real ms.
        auditPeriodMs: Math.min(600_000, Math.max(10, Math.round(500 * this.speed))),
        hostwd: { device: join(root, "dev/watchdog") },
      },
    };
  }

  /**
   * Boot a machine: the init leads a new process group, so a power-off can take every process of it. Its daemons
   * start at lab time `bootEndsAt` (ms; the end of the simulated boot).
   */
  spawn(root: string, args: LabHostArgs, bootEndsAt = args.bootedAt): ChildProcess {
    const full: PmonHostArgs = {
      ...args,
      bootedAtReal: Date.now(),
      amonPorts: { mtcClient: this.ports.mtcClient, hbsClient: this.ports.hbsClient },
      bootEndsAt,
      ...(this.o.pmonConfs ? { pmonConfs: this.o.pmonConfs } : {}),
      pmondRestartMs: this.o.pmondRestartMs ?? 20_000,
    };
    const file = writePmonHostArgs(root, full);
    const proc = fork(PMON_HOST_ENTRY, ["--lab-machine", file], { stdio: ["ignore", "ignore", "inherit", "ipc"], detached: true });
    // However the init ends, nothing of its machine outlives it (the group outlives its leader).
    proc.once("exit", () => this.halt(proc));
    return proc;
  }

  /** Power gone: every process of the machine dies at once. */
  halt(proc: ChildProcess | undefined): void {
    if (!proc?.pid) return;
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      proc.kill("SIGKILL");
    }
  }

  /** `crash-process HOST NAME`: SIGKILL the process its pidfile names. */
  crash(hostname: string, root: string, up: boolean, name: string | undefined): StepVerdict {
    if (!name || !PROCESS.test(name)) return { ok: false, reason: `'${name ?? ""}' is not a process name` };
    if (!up) return { ok: false, reason: `${hostname} is not up` };
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(join(root, "var/run", `${name}.pid`), "utf8").trim(), 10);
    } catch {
      return { ok: false, reason: `${hostname} has no /var/run/${name}.pid` };
    }
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      return { ok: false, reason: `${name} (pid ${pid}) is not running on ${hostname}` };
    }
    this.note(hostname, { atS: this.labS(), event: "crashed", process: name });
    return { ok: true };
  }

  /** A message the control plane's messaging received: pmon events are kept. */
  onHostMessage(m: HostMessage): void {
    if (m.kind !== "event") return;
    const kind = pmonEventKind(m.code);
    if (!kind) return;
    const p = m.payload as { process?: unknown; reason?: unknown };
    this.note(m.hostname, {
      atS: this.labS(),
      event: kind,
      process: typeof p.process === "string" ? p.process.slice(0, 64) : "?",
      ...(typeof p.reason === "string" ? { reason: p.reason.slice(0, 200) } : {}),
    });
  }

  /** The hbsAgent's pmond-missing events. */
  onHeartbeatEvent(e: HeartbeatEvent): void {
    if (e.kind === "pmondRaise" || e.kind === "pmondClear")
      this.note(e.hostname, { atS: this.labS(), event: e.kind === "pmondRaise" ? "pmond-missing" : "pmond-back", process: "pmond" });
  }

  report(hostname: string): LabPmonEvent[] {
    return this.events.get(hostname) ?? [];
  }

  private note(hostname: string, e: LabPmonEvent): void {
    const list = this.events.get(hostname) ?? [];
    if (list.length < 1000) list.push(e);
    this.events.set(hostname, list);
  }
}
