import type { Command } from "commander";
import { runMaintenanceLab } from "../../lab/maintenance-lab.js";
import { parsePmonConfOption } from "../../lab/pmon-lab.js";
import { HA_ACTIONS, LAB_ACTIONS, type LabStep, MAINTENANCE_ACTIONS, parseLabStep } from "../../lab/scenario.js";
import { loadCliConfig } from "../config-option.js";
import { CliError, intOption, numberOption } from "../errors.js";

/**
 * `metal lab`: the embedded lab. This process runs controller-0's mtcAgent, messaging and hbsAgent; every host
 * is a real process running its mtcClient and hbsClient on its own loopback address; reboots take simulated time.
 */
export function labCommand(program: Command): void {
  program
    .command("lab")
    .description("run the embedded lab: controller-0 (mtcAgent, hbsAgent, REST API) and simulated hosts on loopback, with a live host table")
    .option("--hosts <n>", "number of workers (worker-0 .. worker-(N-1))", intOption("--hosts", 1, 254), 3)
    .option("--controllers <n>", "1 or 2 (controller-1 is a standby, added like any host)", intOption("--controllers", 1, 2), 1)
    .option("--storage <k>", "number of storage hosts", intOption("--storage", 0, 50), 0)
    .option("--duration <s>", "stop after this many real seconds (0 = until Ctrl-C)", numberOption("--duration", 0, 86_400), 0)
    .option(
      "--speed <x>",
      "lab time runs this many times faster than real time (a 20 s add delay passes in 2 s at the default)",
      numberOption("--speed", 0.1, 1000),
      10,
    )
    .option("--boot <s>", "lab seconds a simulated boot takes", numberOption("--boot", 1, 3600), 30)
    .option(
      "--do <T:ACTION HOST>",
      `apply ACTION to HOST at lab time T seconds, or T seconds after every host is first enabled with ready+T (repeatable; "!ACTION" when it is meant to be refused): ${LAB_ACTIONS.join(", ")}; cut/heal HOST NET (mgmt, cluster-host, pxeboot), power-stuck/power-unstuck HOST, set-flag/clear-flag HOST FILE, power-outage [S]`,
      (value: string, prev: LabStep[]) => {
        try {
          return [...prev, parseLabStep(value)];
        } catch (err) {
          throw new CliError((err as Error).message);
        }
      },
      [] as LabStep[],
    )
    .option("--api-port <port>", "serve the REST API on this loopback port (default: any free port)", intOption("--api-port", 0, 65535), 0)
    .option("--system-type <type>", "standard, aio-sx or aio-dx (AIO controllers get the worker subfunction)", "standard")
    .option("--mnfa-threshold <n>", "hosts in heartbeat trouble at once that enter multi-node failure avoidance", intOption("--mnfa-threshold", 1, 1000))
    .option("--mnfa-timeout <s>", "seconds MNFA may last before its hosts are failed (0 = never)", intOption("--mnfa-timeout", 0, 86_400))
    .option(
      "--controller-uptime <s>",
      "controller-0's uptime when its agent starts (below 1200 s: dead office recovery)",
      intOption("--controller-uptime", 0, 1e9),
    )
    .option("-c, --config <file>", "YAML/JSON agent and client settings (timeouts, heartbeat, ...) under what the lab decides itself")
    .option("--settle", "end early, once every --do step ran and the hosts stay settled (--duration is then the limit)")
    .option("--json", "print the final host states, the active alarms and the state history as JSON instead of a live table")
    .option("--keep", "keep the per-host root directories")
    .option("--pmon", "run pmond and hostwd on every host, with mtcClient and hbsClient as pmond's child processes (the default)")
    .option("--no-pmon", "run mtcClient and hbsClient in one process per host, without pmond and hostwd (crash-process is then refused)")
    .option(
      "--pmon-conf <NAME:key=value,...>",
      "add or change a pmon.d process conf on every host, e.g. 'labsvc:severity=critical,restarts=0' (a new NAME runs sleep under pmond)",
      (value: string, prev: Record<string, Record<string, string>>) => {
        try {
          return parsePmonConfOption(value, prev);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
      },
      {} as Record<string, Record<string, string>>,
    )
    .option("--log-level <level>", "lab and host log level (JSON lines): error, warn, info, debug", "error")
    .option(
      "--store <kind>",
      "file (default: one controller-0 agent in this process) or etcd: a 3-member etcd cluster and one metal agent process per controller (needs --controllers 2; lab time is real time; hosts are command recorders)",
      "file",
    )
    .option("--lease-ttl <s>", "with --store etcd: the agents' lease TTL (ha.leaseTtlS)", intOption("--lease-ttl", 1, 60), 3)
    .action(
      async (opts: {
        hosts: number;
        controllers: number;
        storage: number;
        duration: number;
        speed: number;
        boot: number;
        do: LabStep[];
        apiPort: number;
        json?: boolean;
        keep?: boolean;
        settle?: boolean;
        logLevel: string;
        systemType: string;
        mnfaThreshold?: number;
        mnfaTimeout?: number;
        controllerUptime?: number;
        config?: string;
        pmon?: boolean;
        pmonConf: Record<string, Record<string, string>>;
        store: string;
        leaseTtl: number;
      }) => {
        if (opts.store !== "file" && opts.store !== "etcd") throw new CliError(`--store must be file or etcd (got '${opts.store}')`);
        if (opts.store === "etcd") return runEtcdLab(opts);
        for (const s of opts.do)
          if ((HA_ACTIONS as readonly string[]).includes(s.action)) throw new CliError(`--do '${s.text}': ${s.action} needs --controllers 2 --store etcd`);
        if (!["standard", "aio-sx", "aio-dx"].includes(opts.systemType))
          throw new CliError(`--system-type must be standard, aio-sx or aio-dx (got '${opts.systemType}')`);
        if (opts.systemType === "aio-sx" && (opts.controllers > 1 || opts.hosts > 0 || opts.storage > 0))
          throw new CliError("--system-type aio-sx is one controller and nothing else: use --controllers 1 --hosts 0");
        const config = opts.config ? await loadCliConfig(opts.config) : undefined;
        if (!["error", "warn", "info", "debug"].includes(opts.logLevel))
          throw new CliError(`--log-level must be error, warn, info or debug (got '${opts.logLevel}')`);
        const names = new Set(["controller-0", ...(opts.controllers > 1 ? ["controller-1"] : [])]);
        for (let i = 0; i < opts.storage; i++) names.add(`storage-${i}`);
        for (let i = 0; i < opts.hosts; i++) names.add(`worker-${i}`);
        if (names.size > 254) throw new CliError("the lab supports at most 254 hosts in all");
        if (opts.pmon === false && Object.keys(opts.pmonConf).length > 0) throw new CliError("--pmon-conf needs pmond on the hosts: drop --no-pmon");
        for (const s of opts.do) if (s.host !== "all" && !names.has(s.host)) throw new CliError(`--do: no host named '${s.host}' in this lab`);
        const result = await runMaintenanceLab({
          workers: opts.hosts,
          controllers: opts.controllers,
          storage: opts.storage,
          durationS: opts.duration,
          speed: opts.speed,
          bootS: opts.boot,
          steps: opts.do,
          apiPort: opts.apiPort,
          json: Boolean(opts.json),
          settle: Boolean(opts.settle),
          keep: Boolean(opts.keep),
          logLevel: opts.logLevel as "error",
          systemType: opts.systemType as "standard",
          ...(opts.mnfaThreshold !== undefined ? { mnfaThreshold: opts.mnfaThreshold } : {}),
          ...(opts.mnfaTimeout !== undefined ? { mnfaTimeoutS: opts.mnfaTimeout } : {}),
          ...(opts.controllerUptime !== undefined ? { controllerUptimeS: opts.controllerUptime } : {}),
          ...(config ? { config } : {}),
          pmon: opts.pmon === false ? false : { pmonConfs: opts.pmonConf },
          out: process.stdout,
        });
        const surprising = result.steps.filter((e) => (e.outcome === "refused") !== e.expectRefused);
        for (const e of surprising)
          process.stderr.write(
            `metal lab: step '${e.step}' ${e.outcome === "refused" ? `was refused: ${e.reason}` : "went through but was meant to be refused"}\n`,
          );
        if (surprising.length) process.exitCode = 1;
        if (!result.ok && !surprising.length) {
          const unsettled = result.hosts
            .filter((h) => h.action !== "none" || h.availability === "failed")
            .map((h) => `${h.hostname}: ${h.administrative}-${h.operational}-${h.availability}${h.action !== "none" ? ` (${h.action})` : ""}`)
            .join(", ");
          // A failed host, or hosts that never settled when asked to (--settle), fail the run; hosts still
          // enabling when the time is up are reported but are not an error of the lab.
          const failed = result.hosts.some((h) => h.availability === "failed");
          process.stderr.write(`metal lab: ${failed || opts.settle ? "not every host settled" : "time is up with hosts still in progress"} (${unsettled})\n`);
          if (failed || opts.settle) process.exitCode = 1;
        }
        // The run is over and reported: a straggler (a host process being reaped, a socket closing) must not
        // hold the command open. unref'd, so a clean shutdown exits at once without it.
        setTimeout(() => process.exit(), 3000).unref();
      },
    );
}

/** `metal lab --controllers 2 --store etcd`: the controller pair on a 3-member etcd (lab/ha-lab.ts). */
async function runEtcdLab(opts: {
  hosts: number;
  controllers: number;
  storage: number;
  duration: number;
  do: LabStep[];
  json?: boolean;
  settle?: boolean;
  keep?: boolean;
  logLevel: string;
  leaseTtl: number;
}): Promise<void> {
  if (opts.controllers !== 2) throw new CliError("--store etcd runs the controller pair: use --controllers 2");
  if (opts.storage > 0) throw new CliError("--store etcd: the etcd lab has no storage hosts (use --hosts)");
  if (!["error", "warn", "info", "debug"].includes(opts.logLevel))
    throw new CliError(`--log-level must be error, warn, info or debug (got '${opts.logLevel}')`);
  const names = new Set(["controller-0", "controller-1", ...Array.from({ length: opts.hosts }, (_, i) => `worker-${i}`)]);
  for (const s of opts.do) {
    // "active" / "standby": the controller that acts (or not) when the step runs.
    const pairRole = !s.action.endsWith("-etcd") && (s.host === "active" || s.host === "standby");
    const target = s.action === "kill-etcd" || s.action === "revive-etcd" ? /^[0-2]$/.test(s.host) : pairRole || names.has(s.host);
    if (!target)
      throw new CliError(`--do '${s.text}': ${s.action.endsWith("-etcd") ? "the etcd member is 0, 1 or 2" : `no host named '${s.host}' in this lab`}`);
    if (s.action.endsWith("-agent") && !pairRole && !s.host.startsWith("controller-")) throw new CliError(`--do '${s.text}': ${s.action} takes a controller`);
    if (!(HA_ACTIONS as readonly string[]).includes(s.action) && !(MAINTENANCE_ACTIONS as readonly string[]).includes(s.action))
      throw new CliError(`--do '${s.text}': ${s.action} acts on a simulated machine, which the etcd lab does not run`);
  }
  const { runHaLab } = await import("../../lab/ha-lab.js");
  const result = await runHaLab({
    workers: opts.hosts,
    durationS: opts.duration,
    steps: opts.do,
    json: Boolean(opts.json),
    settle: Boolean(opts.settle),
    keep: Boolean(opts.keep),
    leaseTtlS: opts.leaseTtl,
    logLevel: opts.logLevel as "error",
    out: process.stdout,
  });
  const surprising = result.steps.filter((e) => (e.outcome === "refused") !== e.expectRefused);
  for (const e of surprising)
    process.stderr.write(`metal lab: step '${e.step}' ${e.outcome === "refused" ? `was refused: ${e.reason}` : "went through but was meant to be refused"}\n`);
  if (result.active === null) process.stderr.write("metal lab: no agent is active at the end\n");
  else if (!result.ok && !surprising.length) process.stderr.write("metal lab: hosts still have an action in progress at the end\n");
  if (!result.ok) process.exitCode = 1;
  setTimeout(() => process.exit(), 3000).unref();
}
