/**
 * One daemon of a pmon lab machine (issue 13), started by the machine's init (pmond) or by pmond itself through
 * the conf's `command` (mtcClient, hbsClient): `node pmon-role.js --lab-role NAME <root>/lab/host-args.json`.
 *
 * It starts during the machine's simulated boot: mtcClient and hbsClient load their modules, then wait for the boot's
 * end (`bootEndsAt`) before their daemons run; a restart by pmond after the boot starts at once.
 *
 * Kept light on purpose: the init hands over the config it already validated (`lab/host-config.json`), and each
 * role imports only its own daemon, after it is running for what is time-critical. pmond restarting a crashed
 * hbsClient must beat the heartbeat's loss threshold (10 pulses of 100 ms, reference mtce-core.md §3.2, real time in
 * the lab): a start that imported the whole package and validated the config took ~0.5 s of that second on an idle
 * machine and more than all of it on a loaded one.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LAB_CLIENT_UP_FILE } from "../client/lab-node-actions.js";
import type { MetalConfig } from "../config/schema.js";
import type { Logger } from "../plugin-api/services.js";
import type { NetworkName } from "../transport/transport.js";

export const PMON_ROLE_ENTRY = fileURLToPath(import.meta.url);
/** The machine init's pid, for the roles' reboot request. */
export const MACHINE_ENV = "METAL_LAB_MACHINE_PID";
/** The daemons a lab machine runs under pmond (the rest of the personality's set is not simulated). */
export const LAB_ROLES = ["mtcClient", "hbsClient"] as const;

/** Where the init leaves the validated config for its roles (next to the args file). */
export const roleConfigFile = (argsFile: string): string => join(dirname(argsFile), "host-config.json");
/** The networks the lab has cut for this machine (a JSON array the init rewrites). */
export const linksFile = (root: string): string => join(root, "lab", "links-down");

interface RoleArgs {
  speed: number;
  bootedAt: number;
  bootedAtReal?: number;
  bootEndsAt?: number;
}

/** Wait (real time) until the machine's lab time reaches the end of its boot; at once for a restart after it. */
function bootEnd(args: RoleArgs): Promise<void> {
  const ms = ((args.bootEndsAt ?? 0) - machineLabNow(args)) / args.speed;
  return ms > 0 ? new Promise((r) => setTimeout(r, Math.min(ms, 3_600_000))) : Promise.resolve();
}

/**
 * The machine's lab time now (ms), for a ScaledClock started now: the boot's lab time plus the real time since, so
 * a daemon pmond restarts keeps the machine's uptime instead of starting its own at zero.
 */
export function machineLabNow(args: RoleArgs, realNow = Date.now()): number {
  return args.bootedAt + (args.bootedAtReal === undefined ? 0 : Math.max(0, realNow - args.bootedAtReal) * args.speed);
}

function readLinks(root: string): NetworkName[] {
  try {
    return JSON.parse(readFileSync(linksFile(root), "utf8")) as NetworkName[];
  } catch {
    return [];
  }
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

function untilTerm(stop: () => Promise<unknown>): void {
  const quit = () => {
    setTimeout(() => process.exit(0), 1500).unref();
    void stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
}

async function role(name: string, file: string): Promise<void> {
  const args = JSON.parse(readFileSync(file, "utf8")) as RoleArgs;
  const config = JSON.parse(readFileSync(roleConfigFile(file), "utf8")) as MetalConfig;
  const [{ createLogger }, { ScaledClock, SystemClock }, { LinkSwitch }] = await Promise.all([
    import("../logging/logger.js"),
    import("../clock/system-clock.js"),
    import("./link-switch.js"),
  ]);
  const logger: Logger = createLogger({ level: config.logging.level, name: `lab:${config.node.hostname}:${name}` });
  const links = new LinkSwitch();
  const watchLinks = () => {
    links.set(readLinks(config.root));
    setInterval(() => links.set(readLinks(config.root)), 200).unref();
  };
  if (name === "pmond") {
    const { Pmond } = await import("../pmon/pmond.js");
    const pmond = new Pmond({ config, clock: new ScaledClock(args.speed, machineLabNow(args)), logger });
    await pmond.start();
    untilTerm(() => pmond.stop());
  } else if (name === "hbsClient") {
    watchLinks();
    const { HbsClient } = await import("../heartbeat/hbs-client.js");
    await bootEnd(args);
    const hbs = new HbsClient({ config, clock: new SystemClock(), logger, linkDown: (n) => links.isDown(n) });
    await hbs.start();
    // Pulses are answered from here on; pmond's pings only start after the conf's startuptime.
    const { startAmonResponder } = await import("../pmon/amon.js");
    const amon = await startAmonResponder(config, "hbsClient", logger);
    untilTerm(async () => {
      await amon?.close();
      await hbs.stop();
    });
  } else if (name === "mtcClient") {
    watchLinks();
    const [
      { MtcClient },
      { LabNodeActions },
      { nodePaths },
      { builtinPersonalities },
      { DefaultPersonalityRegistry },
      { datagramAuthFor },
      { UdpTransport },
      { SwitchedTransport },
    ] = await Promise.all([
      import("../client/mtc-client.js"),
      import("../client/lab-node-actions.js"),
      import("../config/paths.js"),
      import("../personality/builtin.js"),
      import("../personality/registry.js"),
      import("../transport/datagram-auth.js"),
      import("../transport/udp-transport.js"),
      import("./link-switch.js"),
    ]);
    await bootEnd(args);
    const clock = new ScaledClock(args.speed, machineLabNow(args));
    const client = new MtcClient({
      config,
      transport: new SwitchedTransport(new UdpTransport({ auth: datagramAuthFor(config, logger) }), links),
      clock,
      logger,
      actions: new LabNodeActions(nodePaths(config.root), clock, logger, rebootMachine),
      personalities: new DefaultPersonalityRegistry(builtinPersonalities(config.timeouts)),
    });
    await client.start();
    writeFileSync(join(config.root, LAB_CLIENT_UP_FILE), String(args.bootedAt));
    const { startAmonResponder } = await import("../pmon/amon.js");
    const amon = await startAmonResponder(config, "mtcClient", logger);
    untilTerm(async () => {
      await amon?.close();
      await client.stop();
    });
  } else {
    throw new Error(`unknown lab role '${name}'`);
  }
}

if (process.argv[2] === "--lab-role") {
  role(process.argv[3] ?? "", process.argv[4] ?? "").catch((err: unknown) => {
    process.stderr.write(`lab ${process.argv[3]}: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
