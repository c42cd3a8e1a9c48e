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
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LAB_REBOOT_EXIT_CODE, LabNodeActions } from "../client/lab-node-actions.js";
import { MtcClient } from "../client/mtc-client.js";
import { ScaledClock, SystemClock } from "../clock/system-clock.js";
import type { MetalConfig } from "../config/index.js";
import { parseConfig } from "../config/load.js";
import { nodePaths } from "../config/paths.js";
import { HbsClient } from "../heartbeat/hbs-client.js";
import { createLogger } from "../logging/logger.js";
import { builtinPersonalities } from "../personality/builtin.js";
import { DefaultPersonalityRegistry } from "../personality/registry.js";
import type { Logger } from "../plugin-api/services.js";
import { startAmonResponder } from "../pmon/amon.js";
import { formatProcessConf } from "../pmon/conf.js";
import { Hostwd } from "../pmon/hostwd.js";
import { pmonPaths } from "../pmon/paths.js";
import { defaultConfs, type PmonPersonality } from "../pmon/personality-confs.js";
import { Pmond } from "../pmon/pmond.js";
import { datagramAuthFor } from "../transport/datagram-auth.js";
import type { NetworkName } from "../transport/transport.js";
import { UdpTransport } from "../transport/udp-transport.js";
import { LinkSwitch, SwitchedTransport } from "./link-switch.js";
import type { LabHostArgs, LabHostMessage } from "./maintenance-host.js";

const THIS_FILE = fileURLToPath(import.meta.url);
/** The machine init's pid, for the roles' reboot request. */
const MACHINE_ENV = "METAL_LAB_MACHINE_PID";

export interface PmonHostArgs extends LabHostArgs {
  /** Extra or changed process confs for every host: process name → INI fields (a new name runs `sleep`). */
  pmonConfs?: Record<string, Record<string, string | number>>;
  /** Real ms before a dead pmond is started again (long enough for the hbsAgent's 'pmond' alarm to show). */
  pmondRestartMs?: number;
}

const argsFile = (root: string) => join(root, "lab", "host-args.json");
const linksFile = (root: string) => join(root, "lab", "links-down");

/** The pmon.d set of a lab machine: the personality's confs, launched by pmond itself, timed for lab speed. */
export function labPmonConfs(config: MetalConfig, personality: PmonPersonality, speed: number, extra: PmonHostArgs["pmonConfs"] = {}): Array<[string, string]> {
  const file = argsFile(config.root);
  const out: Array<[string, string]> = [];
  // Node needs a few real seconds to start on a busy machine: active monitoring starts after 15 real seconds.
  const startuptime = Math.max(5, Math.ceil(15 * speed));
  for (const c of defaultConfs(personality)) {
    const name = String(c.fields.process);
    if (name !== "mtcClient" && name !== "hbsClient") continue; // the lab machine runs these two
    const fields: Record<string, string | number | undefined> = { ...c.fields, service: undefined, script: undefined, startuptime };
    fields.command = `${process.execPath} ${THIS_FILE} --lab-role ${name} ${file}`;
    out.push([`${name}.conf`, formatProcessConf({ ...fields, ...extra[name] })]);
  }
  for (const [name, fields] of Object.entries(extra)) {
    if (name === "mtcClient" || name === "hbsClient") continue;
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

function readLinks(root: string): NetworkName[] {
  try {
    return JSON.parse(readFileSync(linksFile(root), "utf8")) as NetworkName[];
  } catch {
    return [];
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
  for (const [name, text] of labPmonConfs(config, personality, args.speed, args.pmonConfs)) writeFileSync(join(dir, name), text);
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

  // pmond, restarted when it dies (systemd's Restart= for pmon.service).
  const pidfile = join(config.root, "var/run/pmond.pid");
  let pmond: ChildProcess | undefined;
  const startPmond = () => {
    if (down) return;
    const p = spawn(process.execPath, [THIS_FILE, "--lab-role", "pmond", file], { stdio: ["ignore", "ignore", "inherit"] });
    pmond = p;
    if (p.pid) writeFileSync(pidfile, `${p.pid}\n`);
    p.once("exit", () => {
      if (pmond === p && !down) setTimeout(startPmond, args.pmondRestartMs ?? 20_000);
    });
  };
  startPmond();

  // hostwd in the init (real time: the reference's 30 s report period and 3 misses).
  mkdirSync(dirname(config.pmon.hostwd.device), { recursive: true });
  const clock = new ScaledClock(args.speed, args.bootedAt);
  const hostwd = new Hostwd({
    config: { ...config, pmon: { ...config.pmon, hostwdUpdatePeriod: 30 } },
    clock: new SystemClock(),
    logger,
    actions: new LabNodeActions(nodePaths(config.root), clock, logger, (code) => exit(code)),
  });
  await hostwd.start();
}

/** What a role process does when its lab NodeActions reboot the machine: ask the init, then go. */
function rebootMachine(code: number): void {
  const pid = Number(process.env[MACHINE_ENV]);
  if (pid > 1) {
    try {
      process.kill(pid, "SIGUSR2");
    } catch {
      // the machine is gone already
    }
  }
  process.exit(code);
}

function watchLinks(root: string, links: LinkSwitch): void {
  links.set(readLinks(root));
  setInterval(() => links.set(readLinks(root)), 200).unref();
}

function untilTerm(stop: () => Promise<unknown>): void {
  const quit = () => {
    setTimeout(() => process.exit(0), 1500).unref();
    void stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
}

async function role(name: string, file: string): Promise<void> {
  const args = JSON.parse(readFileSync(file, "utf8")) as PmonHostArgs;
  const config = parseConfig(args.config, "lab host config");
  const logger: Logger = createLogger({ level: config.logging.level, name: `lab:${config.node.hostname}:${name}` });
  const links = new LinkSwitch();
  if (name === "pmond") {
    const pmond = new Pmond({ config, clock: new ScaledClock(args.speed, args.bootedAt), logger });
    await pmond.start();
    untilTerm(() => pmond.stop());
  } else if (name === "mtcClient") {
    watchLinks(config.root, links);
    const clock = new ScaledClock(args.speed, args.bootedAt);
    const client = new MtcClient({
      config,
      transport: new SwitchedTransport(new UdpTransport({ auth: datagramAuthFor(config, logger) }), links),
      clock,
      logger,
      actions: new LabNodeActions(nodePaths(config.root), clock, logger, rebootMachine),
      personalities: new DefaultPersonalityRegistry(builtinPersonalities(config.timeouts)),
    });
    await client.start();
    const amon = await startAmonResponder(config, "mtcClient", logger);
    untilTerm(async () => {
      await amon?.close();
      await client.stop();
    });
  } else if (name === "hbsClient") {
    watchLinks(config.root, links);
    const hbs = new HbsClient({ config, clock: new SystemClock(), logger, linkDown: (n) => links.isDown(n) });
    await hbs.start();
    const amon = await startAmonResponder(config, "hbsClient", logger);
    untilTerm(async () => {
      await amon?.close();
      await hbs.stop();
    });
  } else {
    throw new Error(`unknown lab role '${name}'`);
  }
}

/** Write the args where the machine and its roles read them; the lab forks this file with `--lab-machine FILE`. */
export function writePmonHostArgs(root: string, args: PmonHostArgs): string {
  mkdirSync(join(root, "lab"), { recursive: true });
  writeFileSync(argsFile(root), JSON.stringify(args));
  return argsFile(root);
}

export const PMON_HOST_ENTRY = THIS_FILE;

if (process.argv[2] === "--lab-machine" || process.argv[2] === "--lab-role") {
  const run = process.argv[2] === "--lab-machine" ? machine(process.argv[3] ?? "") : role(process.argv[3] ?? "", process.argv[4] ?? "");
  run.catch((err: unknown) => {
    process.stderr.write(`lab ${process.argv[3]}: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
