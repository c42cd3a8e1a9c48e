/**
 * One simulated machine of the lab with pmond (issue 13): this process is the machine's init. It writes the
 * node's pmon.d confs (the personality's default set, each process launched by pmond itself through the conf's
 * `command`), starts pmond as a child (and restarts it after `pmondRestartMs`, as systemd would), and runs hostwd
 * with a file as the watchdog device. pmond starts mtcClient and hbsClient as real child processes (the roles
 * below), so each can be crashed alone. The init leads a process group: a reboot (SIGUSR2 from the lab
 * NodeActions of mtcClient or hostwd) kills every member and exits with LAB_REBOOT_EXIT_CODE; the lab kills the
 * whole group for a power-off. Cut links reach the roles through `<root>/lab/links-down`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LAB_CLIENT_UP_FILE, LAB_REBOOT_EXIT_CODE, LabNodeActions } from "../client/lab-node-actions.js";
import { ScaledClock, SystemClock } from "../clock/system-clock.js";
import type { MetalConfig } from "../config/index.js";
import { parseConfig } from "../config/load.js";
import { nodePaths } from "../config/paths.js";
import { createLogger } from "../logging/logger.js";
import { formatProcessConf } from "../pmon/conf.js";
import { Hostwd } from "../pmon/hostwd.js";
import { pmonPaths } from "../pmon/paths.js";
import { defaultConfs, type PmonPersonality } from "../pmon/personality-confs.js";
import type { LabHostArgs, LabHostMessage, LabHostReport } from "./maintenance-host.js";
import { LAB_ROLES, linksFile, MACHINE_ENV, machineLabNow, PMON_ROLE_ENTRY, roleConfigFile } from "./pmon-role.js";

const THIS_FILE = fileURLToPath(import.meta.url);

export interface PmonHostArgs extends LabHostArgs {
  /** Extra or changed process confs for every host: process name → INI fields (a new name runs `sleep`). */
  pmonConfs?: Record<string, Record<string, string | number>>;
  /** Real ms before a dead pmond is started again (long enough for the hbsAgent's 'pmond' alarm to show). */
  pmondRestartMs?: number;
  /** Real time (Date.now()) of the boot at lab time `bootedAt`: every daemon of the machine, restarted or not, keeps the machine's clock. */
  bootedAtReal?: number;
  /** The active-monitor ports of mtcClient and hbsClient (the lab's own; the reference's are 2201/2202). */
  amonPorts?: { mtcClient: number; hbsClient: number };
  /** Lab time (ms) the simulated boot ends: mtcClient and hbsClient start their daemons then (pmon-role.ts). */
  bootEndsAt?: number;
}

const argsFile = (root: string) => join(root, "lab", "host-args.json");

/** The pmon.d set of a lab machine: the personality's confs, launched by pmond itself, timed for lab speed. */
export function labPmonConfs(
  config: MetalConfig,
  personality: PmonPersonality,
  speed: number,
  extra: PmonHostArgs["pmonConfs"] = {},
  amonPorts: PmonHostArgs["amonPorts"] = undefined,
): Array<[string, string]> {
  const file = argsFile(config.root);
  const out: Array<[string, string]> = [];
  // Node needs a few real seconds to start on a busy machine: active monitoring starts after 15 real seconds.
  const startuptime = Math.max(5, Math.ceil(15 * speed));
  // Active monitoring keeps the reference's real-time pace (ping every 5 s, 4 s to answer, 5 misses): in lab
  // seconds a 0.4 s answer window let a loaded machine's busy daemon be killed for nothing.
  const realS = (s: number) => Math.min(3600, Math.max(1, Math.ceil(s * speed)));
  for (const c of defaultConfs(personality, amonPorts)) {
    const name = String(c.fields.process);
    if (!(LAB_ROLES as readonly string[]).includes(name)) continue; // the lab machine runs these
    const fields: Record<string, string | number | undefined> = { ...c.fields, service: undefined, script: undefined, startuptime };
    if (fields.mode === "active") Object.assign(fields, { period: realS(Number(fields.period)), timeout: realS(Number(fields.timeout)) });
    fields.command = `${process.execPath} ${PMON_ROLE_ENTRY} --lab-role ${name} ${file}`;
    out.push([`${name}.conf`, formatProcessConf({ ...fields, ...extra[name] })]);
  }
  for (const [name, fields] of Object.entries(extra)) {
    if ((LAB_ROLES as readonly string[]).includes(name)) continue;
    const base = { process: name, pidfile: `/var/run/${name}.pid`, command: "sleep 1000000", severity: "major", restarts: 3, interval: 10, debounce: 20 };
    out.push([`${name}.conf`, formatProcessConf({ ...base, startuptime: 0, ...fields })]);
  }
  return out;
}

/** Every pid in this process group but our own (Linux /proc). */
function groupMembers(): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === process.pid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

function killGroup(): void {
  for (const pid of groupMembers()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** The machine init. */
async function machine(file: string): Promise<void> {
  const args = JSON.parse(readFileSync(file, "utf8")) as PmonHostArgs;
  const config = parseConfig(args.config, "lab host config");
  const logger = createLogger({ level: config.logging.level, name: `lab:${config.node.hostname}` });
  const personality = (config.node.subfunctions[0] ?? "worker") as PmonPersonality;
  const dir = pmonPaths(config).confDir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of labPmonConfs(config, personality, args.speed, args.pmonConfs, args.amonPorts)) writeFileSync(join(dir, name), text);
  // The roles take the config as validated here (no second validation on their start: pmon-role.ts).
  writeFileSync(roleConfigFile(file), JSON.stringify(config), { mode: 0o600 });
  writeFileSync(linksFile(config.root), JSON.stringify(args.linksDown ?? []));
  let down = false;
  const exit = (code: number) => {
    down = true;
    killGroup();
    process.exit(code);
  };
  process.env[MACHINE_ENV] = String(process.pid);
  process.on("SIGUSR2", () => exit(LAB_REBOOT_EXIT_CODE));
  process.on("SIGTERM", () => exit(0));
  process.on("SIGINT", () => exit(0));
  process.on("disconnect", () => exit(0));
  process.on("message", (m: LabHostMessage) => {
    if (m && m.type === "links" && Array.isArray(m.down)) writeFileSync(linksFile(config.root), JSON.stringify(m.down));
  });

  // The machine is up for the lab once its mtcClient runs (it writes LAB_CLIENT_UP_FILE): said once per boot.
  const upFile = join(config.root, LAB_CLIENT_UP_FILE);
  rmSync(upFile, { force: true });
  const upWatch = setInterval(() => {
    if (!existsSync(upFile)) return;
    clearInterval(upWatch);
    const up: LabHostReport = { type: "up" };
    process.send?.(up);
  }, 50);

  // pmond, restarted when it dies (systemd's Restart= for pmon.service).
  const pidfile = join(config.root, "var/run/pmond.pid");
  let pmond: ChildProcess | undefined;
  const startPmond = () => {
    if (down) return;
    const p = spawn(process.execPath, [PMON_ROLE_ENTRY, "--lab-role", "pmond", file], { stdio: ["ignore", "ignore", "inherit"] });
    pmond = p;
    if (p.pid) writeFileSync(pidfile, `${p.pid}\n`);
    p.once("exit", () => {
      if (pmond === p && !down) setTimeout(startPmond, args.pmondRestartMs ?? 20_000);
    });
  };
  startPmond();

  // hostwd in the init (real time: the reference's 30 s report period and 3 misses).
  mkdirSync(dirname(config.pmon.hostwd.device), { recursive: true });
  const clock = new ScaledClock(args.speed, machineLabNow(args));
  const hostwd = new Hostwd({
    config: { ...config, pmon: { ...config.pmon, hostwdUpdatePeriod: 30 } },
    clock: new SystemClock(),
    logger,
    actions: new LabNodeActions(nodePaths(config.root), clock, logger, (code) => exit(code)),
  });
  await hostwd.start();
}

/** Write the args where the machine and its roles read them; the lab forks this file with `--lab-machine FILE`. */
export function writePmonHostArgs(root: string, args: PmonHostArgs): string {
  mkdirSync(join(root, "lab"), { recursive: true });
  writeFileSync(argsFile(root), JSON.stringify(args));
  return argsFile(root);
}

export const PMON_HOST_ENTRY = THIS_FILE;

if (process.argv[2] === "--lab-machine") {
  machine(process.argv[3] ?? "").catch((err: unknown) => {
    process.stderr.write(`lab machine: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
