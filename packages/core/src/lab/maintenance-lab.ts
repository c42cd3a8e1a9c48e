import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import { AgentMessaging } from "../agent/messaging.js";
import { createAlarmManager, MtcAgent } from "../agent/mtc-agent.js";
import type { ActiveAlarm } from "../alarms/alarm-manager.js";
import { AgentApi } from "../api/agent-api.js";
import { ClusterSource } from "../api/cluster-source.js";
import { LAB_BOOT_FILE, LAB_REBOOT_EXIT_CODE } from "../client/lab-node-actions.js";
import { provisionedFlagFiles } from "../client/provisioned-flags.js";
import { ScaledClock, SystemClock } from "../clock/system-clock.js";
import { defaultConfig, type MetalConfig, type MetalConfigInput } from "../config/index.js";
import { nodePaths } from "../config/paths.js";
import { builtinPlugins, createMetalContainer } from "../di/container.js";
import { Tokens } from "../di/tokens.js";
import { HbsAgent } from "../heartbeat/hbs-agent.js";
import { UdpHeartbeatControl } from "../heartbeat/heartbeat-control.js";
import { FileInventoryStore } from "../inventory/file-store.js";
import { DegradeMask, newHostRecord } from "../inventory/host.js";
import { createLogger } from "../logging/logger.js";
import type { Logger, TimerHandle } from "../plugin-api/services.js";
import { FakeBmcFabric, type FakeMachine } from "../testing/fake-bmc.js";
import { datagramAuthFor } from "../transport/datagram-auth.js";
import { freeUdpPorts } from "../transport/free-ports.js";
import type { NetworkName } from "../transport/transport.js";
import { UdpTransport } from "../transport/udp-transport.js";
import { LAB_CONTROLLER_ADDRESS, simHostAddress, simNetworkAddress } from "./lab.js";
import { labEnvLine, writeLabApiToken } from "./lab-api-token.js";
import { labConfigOverlay } from "./lab-config.js";
import { LabLinePrinter } from "./lab-lines.js";
import { type LabMachineControl, MACHINE_ACTION_HANDLERS, type StepVerdict } from "./machine-actions.js";
import type { LabHostArgs, LabHostMessage, LabHostReport } from "./maintenance-host.js";
import { type LabPmonEvent, PmonLab, type PmonLabOptions } from "./pmon-lab.js";
import { HA_ACTIONS, type LabStep, labHostnames, MACHINE_ACTIONS } from "./scenario.js";

/**
 * `metal lab` with maintenance (issue 4): this process is controller-0's control plane — mtcAgent (FSMs,
 * alarms, REST API), its messaging and the hbsAgent — and every host, controller-0 included, is a real
 * process running the node's mtcClient and hbsClient on its own loopback address. Reboots, resets and power
 * go through simulated machines (fake BMCs) and take simulated time: lab time runs `speed` times real time.
 */
export interface MaintenanceLabOptions {
  workers: number;
  controllers: number;
  storage: number;
  durationS: number;
  speed: number;
  json: boolean;
  steps: LabStep[];
  out: NodeJS.WritableStream;
  keep?: boolean;
  /** Lab seconds a simulated boot takes. */
  bootS?: number;
  /** Serve the REST API on this loopback port (0 = any free port). */
  apiPort?: number;
  /** End as soon as every --do step ran and the hosts stay settled (no action, none failed, machines up). */
  settle?: boolean;
  /** Log level of the lab and its hosts (JSON lines on stdout); default error, so --json output stays clean. */
  logLevel?: "warn" | "info" | "debug" | "error";
  /** --system-type: standard (default), aio-sx or aio-dx (controllers get the worker subfunction). */
  systemType?: "standard" | "aio-sx" | "aio-dx";
  /** --mnfa-threshold N and --mnfa-timeout S for the agent. */
  mnfaThreshold?: number;
  mnfaTimeoutS?: number;
  /** --config F: agent and client settings merged under what the lab itself decides (addresses, ports, roots). */
  config?: MetalConfigInput;
  /** --controller-uptime S: controller-0's uptime when the agent starts (below dor_mode_detect → DOR); default 1e6. */
  controllerUptimeS?: number;
  /**
   * pmond and hostwd on every machine, mtcClient and hbsClient as pmond's children (issue 13): lab/pmon-lab.ts. The
   * CLI turns it on unless --no-pmon; left out here, each machine is one process running both clients.
   */
  pmon?: boolean | PmonLabOptions;
}

/** One raise or clear, as the alarm history of the report shows it. */
export interface LabAlarmEntry {
  atS: number;
  id: string;
  host: string;
  severity: string;
  operation: "set" | "clear";
  entity?: string;
  text: string;
}

/** One `--do` step as it went. */
export interface LabStepEntry {
  atS: number;
  step: string;
  outcome: "done" | "refused";
  reason?: string;
  /** Written with `!`: meant to be refused. */
  expectRefused: boolean;
}

export interface LabHostResult {
  hostname: string;
  address: string;
  administrative: string;
  operational: string;
  availability: string;
  action: string;
  task: string;
  root: string;
  machine: "up" | "booting" | "off" | "dead";
  /** How many times the machine booted (its host process started). */
  boots: number;
  /** Lab second at which each boot completed (the host's daemons run). */
  bootTimesS: number[];
  /** Every power request its BMC accepted: lab second, action, and whether the server's power followed (power-stuck). */
  bmcActions: Array<{ atS: number; action: string; applied: boolean }>;
  /** Process crashes, pmond's events and the pmond-missing events of this host (with pmond on). */
  pmon?: LabPmonEvent[];
}

export interface LabResult {
  ok: boolean;
  hosts: LabHostResult[];
  alarms: ActiveAlarm[];
  /** Every state change (the 200.022 log), in lab seconds. */
  history: Array<{ atS: number; host: string; text: string }>;
  /** Every alarm raise and clear, in lab seconds. */
  alarmHistory: LabAlarmEntry[];
  /** Every `--do` step as it went. */
  steps: LabStepEntry[];
  /** The steps that were refused, with the reason (also in `steps`). */
  refused: LabStepEntry[];
  /** Lab second at which every host was first idle and every unlocked one enabled-available. */
  readyAtS?: number;
  /** Lab seconds the run lasted. */
  elapsedS: number;
  /** The lab's REST API and the token file its mutations need (gone after the run unless --keep). */
  api: { url: string; tokenFile: string };
}

interface Machine {
  hostname: string;
  personality: "controller" | "storage" | "worker";
  ip: string;
  clusterHostIp: string;
  pxebootIp: string;
  mac: string;
  bmcAddress: string;
  root: string;
  proc: ChildProcess | undefined;
  /** The host process has loaded its modules and waits for `start` (the forked-at-boot path, without pmond). */
  loaded: boolean;
  /** The simulated boot ended: `start` goes to the host process as soon as it is loaded. */
  bootEnded: boolean;
  state: "up" | "booting" | "off" | "dead";
  bootTimer: TimerHandle | undefined;
  boots: number;
  bootTimesS: number[];
  bmcActions: LabHostResult["bmcActions"];
  linksDown: Set<NetworkName>;
  bmc: FakeMachine;
}

const HOST_ENTRY = join(fileURLToPath(new URL(".", import.meta.url)), "maintenance-host.js");

/** The controller-0 daemons of the lab: they go down with controller-0's machine (power-outage) and come back with it. */
interface ControlPlane {
  agent: MtcAgent;
  api: AgentApi;
  messaging: AgentMessaging;
  hbsAgent: HbsAgent;
  control: UdpHeartbeatControl;
}

/** Resolve once every machine is up; throw after `ms` of real time naming those that are not. */
async function waitForMachinesUp(machines: readonly Machine[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!machines.every((m) => m.state === "up")) {
    if (Date.now() > until)
      throw new Error(
        `lab: ${machines
          .filter((m) => m.state !== "up")
          .map((m) => `${m.hostname} (${m.state})`)
          .join(", ")} did not start within ${ms / 1000} s`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runMaintenanceLab(o: MaintenanceLabOptions): Promise<LabResult> {
  const base = mkdtempSync(join(tmpdir(), "metal-lab-"));
  // The lab runs keyed, as a cluster should: every datagram between its daemons is authenticated.
  const clusterKeyFile = join(base, "cluster.key");
  writeFileSync(clusterKeyFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
  const security = { clusterKeyFile };
  const clock = new ScaledClock(o.speed);
  const bootMs = (o.bootS ?? 30) * 1000;
  const log: Logger = createLogger({ level: o.logLevel ?? "error", name: "lab" });
  const systemType = o.systemType ?? (o.config?.system?.type as MaintenanceLabOptions["systemType"]) ?? "standard";
  // Every port the lab's daemons use, free on this machine (other tests run alongside).
  const PORT_NAMES = [
    "agentMgmt",
    "agentPxeboot",
    "clientMgmt",
    "clientClstr",
    "clientPxeboot",
    "hbsAgentMgmt",
    "hbsAgentClstr",
    "hbsClientMgmt",
    "hbsClientClstr",
    "hbsCmd",
    "hbsEvent",
    "smServer",
    "smClient",
    "mtcalarm",
  ] as const;
  const free = await freeUdpPorts(PORT_NAMES.length);
  const ports = Object.fromEntries(PORT_NAMES.map((n, i) => [n, free[i] as number])) as Record<(typeof PORT_NAMES)[number], number>;
  const { hbsCmd, hbsEvent } = ports;
  const controllerIp = LAB_CONTROLLER_ADDRESS.mgmt;
  // Lab time zero: one time base for every atS of the report (history, alarms, steps, boots and pmon events), so
  // entries from different sources compare (a second base once put pmon events seconds after the history they caused).
  // Lab time 0 is when controller-0's control plane starts (the machines' first boots, before it, are at or below 0).
  let started = clock.now();
  const labS = (at: number) => Math.round((at - started) / 100) / 10;
  const pmonLab = o.pmon ? await PmonLab.create(o.speed, o.pmon === true ? {} : o.pmon, () => labS(clock.now())) : undefined;
  // With pmond on every machine the hbsClients' PMOND_FLAG comes from its pulses.
  const heartbeat = {
    mode: "unicast" as const,
    clientPmondFlag: pmonLab ? ("pulses" as const) : ("always" as const),
    agents: [{ hostname: "controller-0", address: controllerIp }],
  };
  // --config F first, then the lab's options, then what the lab itself must decide (roots, addresses, ports).
  const overlay = (lab: MetalConfigInput): MetalConfigInput =>
    labConfigOverlay(o.config ?? {}, {
      system: { type: systemType },
      ...(o.mnfaThreshold !== undefined ? { mnfa: { threshold: o.mnfaThreshold } } : {}),
      ...(o.mnfaTimeoutS !== undefined ? { timeouts: { mnfa: o.mnfaTimeoutS } } : {}),
      ...lab,
    });

  // --- the machines ------------------------------------------------------------------------------
  const names = labHostnames({ controllers: Math.max(1, o.controllers), storage: o.storage, workers: o.workers });
  const aio = systemType !== "standard";
  const subfunctionsOf = (p: Machine["personality"]) => (aio && p === "controller" ? ["controller", "worker"] : [p]);
  const fabric = new FakeBmcFabric();
  const machines: Machine[] = names.map((n, i) => {
    const ip = simHostAddress(i);
    const last = ip
      .split(".")
      .slice(-2)
      .map((x) => Number(x).toString(16).padStart(2, "0"));
    const bmcAddress = `10.254.0.${i + 1}`;
    return {
      ...n,
      ip,
      clusterHostIp: simNetworkAddress("clusterHost", i),
      pxebootIp: simNetworkAddress("pxeboot", i),
      mac: `52:54:00:4c:${last.join(":")}`,
      bmcAddress,
      root: join(base, n.hostname),
      proc: undefined,
      loaded: false,
      bootEnded: false,
      state: "off",
      bootTimer: undefined,
      boots: 0,
      bootTimesS: [],
      bmcActions: [],
      linksDown: new Set<NetworkName>(),
      bmc: fabric.machine(bmcAddress),
    };
  });
  const byName = new Map(machines.map((m) => [m.hostname, m]));
  const self = machines[0] as Machine;
  let stopping = false;
  let cp: ControlPlane | undefined;
  let outage = false;
  let cpStopped: Promise<void> = Promise.resolve();

  const hostConfig = (m: Machine): MetalConfigInput => {
    const { pmonPulse, ...pmon } = pmonLab?.hostConfig(m.ip, m.root) ?? {};
    return overlay({
      ...pmon,
      root: m.root,
      node: { hostname: m.hostname, subfunctions: subfunctionsOf(m.personality) as ["controller"], mac: m.mac },
      // mgmt, cluster-host and pxeboot, each on its own loopback address (lab.ts), so each can be cut alone.
      networks: {
        mgmt: { address: m.ip, controller: controllerIp },
        clusterHost: { address: m.clusterHostIp, controller: LAB_CONTROLLER_ADDRESS.clusterHost },
        pxeboot: { address: m.pxebootIp, controller: LAB_CONTROLLER_ADDRESS.pxeboot },
      },
      ports: pmonPulse ? { ...ports, pmonPulse } : ports,
      heartbeat,
      messaging: { ...(o.config?.messaging ?? {}), nodeActions: "lab", firstMtcAliveMs: 1000 },
      logging: { level: o.logLevel ?? "error" },
      security,
    });
  };

  /** The machine is up: its daemons run (the host process said so, or with pmond: its process started). */
  const machineUp = (m: Machine) => {
    m.state = "up";
    m.boots++;
    m.bootTimesS.push(labS(clock.now()));
    // controller-0 is back from a power outage: its control plane starts with it (low uptime: dead office recovery).
    if (m === self && outage) {
      outage = false;
      void startControlPlane(0).catch((err: unknown) => log.error({ err: (err as Error).message }, "lab: the control plane did not come back"));
    }
  };
  const watchExit = (m: Machine, proc: ChildProcess) => {
    proc.once("exit", (code) => {
      if (m.proc !== proc) return;
      m.proc = undefined;
      if (stopping) return;
      // The host rebooted itself (LabNodeActions): it comes back after a simulated boot.
      if (code === LAB_REBOOT_EXIT_CODE && m.state === "up") boot(m);
      else if (m.state === "up" || m.state === "booting") {
        log.warn({ host: m.hostname, code }, "lab: the host process ended");
        halt(m, "dead");
      }
    });
  };
  /** Fork the host process at the start of a boot: it loads while the machine boots and starts when told. */
  const forkHost = (m: Machine) => {
    const proc = fork(HOST_ENTRY, ["--lab-host"], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    m.proc = proc;
    m.loaded = false;
    proc.on("message", (r: LabHostReport) => {
      if (m.proc !== proc || stopping) return;
      if (r?.type === "loaded") {
        m.loaded = true;
        sendStart(m);
      } else if (r?.type === "up" && m.state === "booting") machineUp(m);
    });
    watchExit(m, proc);
  };
  /** The node's first moments after the boot: a fresh /var/run, the boot time, then its daemons start. */
  const prepareRoot = (m: Machine, bootedAt: number) => {
    // A boot starts with an empty /var/run (a tmpfs): nothing volatile survives a reset, a power-off or a crash.
    rmSync(join(m.root, "var/run"), { recursive: true, force: true });
    mkdirSync(join(m.root, "lab"), { recursive: true });
    mkdirSync(join(m.root, "var/run"), { recursive: true });
    // A provisioned node: initial config done and healthy, goenabled.service has run (the flag files a real
    // node's config tooling writes at boot, as `metal node init` does), so the enable's checks pass.
    for (const f of provisionedFlagFiles(nodePaths(m.root), subfunctionsOf(m.personality))) {
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, "");
    }
    writeFileSync(join(m.root, LAB_BOOT_FILE), String(bootedAt));
  };
  const sendStart = (m: Machine) => {
    if (!m.bootEnded || !m.loaded || !m.proc || m.state !== "booting") return;
    const bootedAt = clock.now();
    prepareRoot(m, bootedAt);
    const msg: LabHostMessage = { type: "start", args: { config: hostConfig(m), speed: o.speed, bootedAt, linksDown: [...m.linksDown] } };
    m.proc.send(msg, (err: Error | null) => {
      if (err) log.warn({ host: m.hostname, err: err.message }, "lab: cannot start the host process");
    });
  };
  /** The simulated boot ended. */
  const spawnHost = (m: Machine) => {
    if (stopping) return;
    m.bootEnded = true;
    if (!pmonLab) {
      if (!m.proc) forkHost(m);
      sendStart(m);
      return;
    }
    // With pmond the machine's process tree has been starting since the boot began (startPmonMachine).
  };
  /**
   * With pmond: the machine's process tree (init, pmond, pmond's children) starts when the boot begins, and its
   * mtcClient and hbsClient start their daemons when the boot ends (`bootEndsAt`), so the real seconds three Node
   * starts take on a loaded machine are spent inside the simulated boot, not added to it. The machine is up when its
   * init says its mtcClient runs.
   */
  const startPmonMachine = (m: Machine, pmon: PmonLab, ms: number) => {
    if (m.proc) pmon.halt(m.proc);
    const bootedAt = clock.now();
    prepareRoot(m, bootedAt);
    const args: LabHostArgs = { config: hostConfig(m), speed: o.speed, bootedAt, linksDown: [...m.linksDown] };
    const proc = pmon.spawn(m.root, args, bootedAt + ms);
    m.proc = proc;
    watchExit(m, proc);
    proc.on("message", (r: LabHostReport) => {
      if (m.proc === proc && !stopping && r?.type === "up" && m.state === "booting") machineUp(m);
    });
  };
  const boot = (m: Machine, ms = bootMs) => {
    clock.clearTimeout(m.bootTimer);
    m.state = "booting";
    m.bootEnded = false;
    if (!stopping) {
      if (pmonLab) startPmonMachine(m, pmonLab, ms);
      else forkHost(m);
    }
    m.bootTimer = clock.setTimeout(() => spawnHost(m), ms);
  };
  const halt = (m: Machine, state: "off" | "dead") => {
    clock.clearTimeout(m.bootTimer);
    m.state = state;
    m.bootEnded = false;
    const p = m.proc;
    m.proc = undefined;
    if (pmonLab) pmonLab.halt(p);
    else p?.kill("SIGKILL");
  };

  // Each machine has a fake BMC; power actions act on the simulated machine.
  for (const m of machines) {
    m.bmc.power = "on";
    m.bmc.onRequest = (action, applied) => m.bmcActions.push({ atS: labS(clock.now()), action, applied });
    m.bmc.onPower = (state, action) => {
      if (state === "off") halt(m, "off");
      else if (action === "reset" || action === "cycle" || m.state === "off" || m.state === "dead") {
        halt(m, "off");
        boot(m);
      }
    };
  }
  const secretFile = join(base, "bmc-password");
  writeFileSync(secretFile, "fake-password");
  chmodSync(secretFile, 0o600);
  // /etc/platform/simplex on the controller: the system has never had a second controller configured (reference §5),
  // so locks are not made persistent (LOCK_PERSIST).
  if (systemType === "aio-sx" || o.controllers < 2) {
    mkdirSync(join(self.root, "etc/platform"), { recursive: true });
    writeFileSync(join(self.root, "etc/platform/simplex"), "");
  }

  // --- the control plane (controller-0) --------------------------------------------------------------
  const stateDir = join(base, "controller-0-agent");
  const config: MetalConfig = defaultConfig(
    overlay({
      root: self.root,
      node: { hostname: "controller-0", subfunctions: subfunctionsOf("controller") as ["controller"] },
      networks: {
        mgmt: { address: controllerIp, controller: controllerIp },
        clusterHost: { address: LAB_CONTROLLER_ADDRESS.clusterHost, controller: LAB_CONTROLLER_ADDRESS.clusterHost },
        pxeboot: { address: LAB_CONTROLLER_ADDRESS.pxeboot, controller: LAB_CONTROLLER_ADDRESS.pxeboot },
      },
      ports,
      heartbeat,
      // One scheduler pass every 50 ms of real time, whatever the speed.
      // (capped at the schema's 1 s: above speed 20 a pass runs more often than every 50 ms of real time)
      maintenance: { ...(o.config?.maintenance ?? {}), tickMs: Math.min(1000, Math.max(1, Math.round(50 * o.speed))), stateDir },
      api: { address: "127.0.0.1", port: o.apiPort ?? 0 },
      plugins: { discover: false },
      security,
    }),
  );
  const container = await createMetalContainer({ config, clock, logger: log, plugins: builtinPlugins(fabric), fakeBmc: fabric });
  const alarms = createAlarmManager(config, clock, log);
  const history: LabResult["history"] = [];
  const alarmHistory: LabAlarmEntry[] = [];
  alarms.onRecord((r) => {
    if (r.id === "200.022") history.push({ atS: labS(r.at), host: r.hostname, text: r.text });
    if (r.operation === "set" || r.operation === "clear")
      alarmHistory.push({
        atS: labS(r.at),
        id: r.id,
        host: r.hostname,
        severity: r.severity,
        operation: r.operation,
        ...(r.entity ? { entity: r.entity } : {}),
        text: r.text,
      });
  });
  const store = new FileInventoryStore({ stateDir, log });
  let apiPort = o.apiPort ?? 0;
  // A token of its own (0600), so the operator can drive the lab: `export METAL_URL=... METAL_TOKEN_FILE=...`.
  const apiToken = writeLabApiToken(base);

  /** Start controller-0's daemons; `uptimeS` is the controller's uptime the agent sees (DOR below dor_mode_detect). */
  async function startControlPlane(uptimeS: number): Promise<ControlPlane> {
    // The daemons of the last life must be gone (their sockets closed, the store flushed) before the next binds.
    await cpStopped;
    const auth = datagramAuthFor(config, log);
    const messaging = new AgentMessaging({ config, transport: new UdpTransport({ auth }), clock, logger: log, alarms });
    await messaging.start();
    const hbsAgent = new HbsAgent({ config, clock: new SystemClock(), logger: log, alarms });
    await hbsAgent.start();
    const control = new UdpHeartbeatControl({
      agents: heartbeat.agents,
      cmdPort: hbsCmd,
      eventAddress: controllerIp,
      eventPort: hbsEvent,
      hostname: "controller-0",
      clock: new SystemClock(),
      logger: log,
      auth,
    });
    await control.start();
    if (pmonLab) {
      messaging.onMessage((msg) => pmonLab.onHostMessage(msg));
      control.onEvent((e) => pmonLab.onHeartbeatEvent(e));
    }
    const agent = new MtcAgent({
      config,
      clock,
      log,
      messaging,
      heartbeat: control,
      alarms,
      directory: messaging,
      store,
      bmcRegistry: container.resolve(Tokens.BmcRegistry),
      controllerUptimeS: uptimeS,
    });
    await agent.start();
    const api = new AgentApi({ agent, log, address: "127.0.0.1", port: apiPort, token: apiToken.token, cluster: ClusterSource.sm(ports) });
    apiPort = (await api.start()).port;
    cp = { agent, api, messaging, hbsAgent, control };
    return cp;
  }
  /**
   * Stop controller-0's daemons. What acts stops at once, before this returns: the agent's scheduler, audits and event
   * subscriptions, and the hbsAgent's pulses and alarms. A power outage takes controller-0 down in an instant; daemons
   * left running while the rest closes (real seconds, minutes of lab time) saw every host vanish, failed them and
   * persisted it for the next life (issue 14: a worker rebooted by maintenance in DOR; heartbeat alarms nobody cleared).
   */
  function stopControlPlane(): Promise<void> {
    const c = cp;
    cp = undefined;
    if (!c) return cpStopped;
    lastHosts = c.agent.hosts();
    c.agent.suspend();
    const hbsStopped = c.hbsAgent.stop();
    cpStopped = cpStopped
      .then(async () => {
        await hbsStopped;
        await c.control.stop();
        await c.messaging.stop();
        await c.agent.stop();
        await c.api.stop();
      })
      .catch((err: unknown) => log.error({ err: (err as Error).message }, "lab: control plane stop failed"));
    return cpStopped;
  }

  // controller-0 is the provisioned, running controller this agent lives on; the others are added unlocked.
  const selfRec = newHostRecord({
    hostname: self.hostname,
    personality: "controller",
    subfunctions: subfunctionsOf("controller"),
    mgmtIp: self.ip,
    clusterHostIp: self.clusterHostIp,
    pxebootIp: self.pxebootIp,
    mgmtMac: self.mac,
    administrative: "unlocked",
  });
  Object.assign(selfRec, { operational: "enabled", availability: "available", action: "none" });
  await store.save(selfRec);
  // Every machine is running when the lab begins (booted before it: no boot time), its daemons started before
  // controller-0's control plane looks at it; a loaded machine makes this take longer, never the hosts late.
  for (const m of machines) boot(m, 0);
  try {
    await waitForMachinesUp(machines, 120_000);
    const shiftS = labS(clock.now());
    started = clock.now();
    for (const m of machines) m.bootTimesS = m.bootTimesS.map((b) => Math.round((b - shiftS) * 10) / 10);
  } catch (err) {
    stopping = true;
    for (const m of machines) halt(m, "off");
    if (!o.keep) rmSync(base, { recursive: true, force: true });
    throw err;
  }
  let lastHosts: ReturnType<MtcAgent["hosts"]> = [];
  const first = await startControlPlane(o.controllerUptimeS ?? 1_000_000);
  for (const m of machines.slice(1)) {
    const r = first.agent.addHost({
      hostname: m.hostname,
      personality: m.personality,
      subfunctions: subfunctionsOf(m.personality),
      mgmtIp: m.ip,
      clusterHostIp: m.clusterHostIp,
      pxebootIp: m.pxebootIp,
      mgmtMac: m.mac,
      administrative: "unlocked",
      bmc: { type: "fake", address: m.bmcAddress, username: "admin", secretRef: secretFile },
    });
    if (!r.ok) throw new Error(`lab: ${r.reason}`);
  }
  const hostsNow = () => cp?.agent.hosts() ?? lastHosts;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const envLine = labEnvLine(apiUrl, apiToken.file);
  const tty = "isTTY" in o.out && Boolean((o.out as NodeJS.WriteStream).isTTY);
  // Not on a terminal: one line per state change and alarm instead of the table; with --json the line goes to
  // stderr, keeping stdout one JSON document.
  const lines = o.json || tty ? undefined : new LabLinePrinter(o.out, () => (clock.now() - started) / 1000);
  if (o.json) process.stderr.write(`${envLine}\n`);
  else if (!tty) o.out.write(`${envLine}\n`);
  alarms.onRecord((r) => lines?.alarm(r));

  // --- the scenario ------------------------------------------------------------------------------
  const control: LabMachineControl = {
    machine: (name) => byName.get(name),
    provisioned: ["mgmt", "clusterHost", "pxeboot"],
    kill: (m) => halt(m as Machine, "dead"),
    crashProcess: (m, name) => (pmonLab ? pmonLab.crash(m.hostname, m.root, m.state === "up", name) : { ok: false, reason: "this lab runs no pmond" }),
    revive: (m) => boot(m as Machine),
    pushLinks: (m) => {
      const msg: LabHostMessage = { type: "links", down: [...m.linksDown] };
      (m as Machine).proc?.send(msg, (err: Error | null) => {
        if (err) log.warn({ host: m.hostname, err: err.message }, "lab: cannot reach the host process");
      });
    },
    powerOutage: (outageS) => {
      if (outage || !cp) return { ok: false, reason: "the power is already out" };
      outage = true;
      // controller-0 dies with its power: its daemons stop acting now, before they could see any host go.
      void stopControlPlane();
      for (const m of machines) {
        m.bmc.power = "off";
        halt(m, "off");
      }
      // Power returns: every machine powers on (restore policy: always on) and boots; controller-0's daemons
      // start when its machine is up.
      clock.setTimeout(() => {
        for (const m of machines) {
          m.bmc.power = "on";
          boot(m);
        }
      }, outageS * 1000);
      return { ok: true };
    },
  };
  const steps: LabStepEntry[] = [];
  let pending = o.steps.length;
  const apply = (step: LabStep) => {
    pending--;
    let verdict: StepVerdict;
    if ((HA_ACTIONS as readonly string[]).includes(step.action)) {
      verdict = { ok: false, reason: `${step.action} needs the controller pair on etcd (--controllers 2 --store etcd)` };
    } else if ((MACHINE_ACTIONS as readonly string[]).includes(step.action)) {
      verdict = MACHINE_ACTION_HANDLERS[step.action as (typeof MACHINE_ACTIONS)[number]](control, step);
    } else if (!cp) {
      verdict = { ok: false, reason: "the control plane is down (power outage)" };
    } else {
      const r = cp.agent.action(step.host, step.action);
      verdict = r.ok ? { ok: true } : { ok: false, reason: r.reason };
    }
    const entry: LabStepEntry = {
      atS: labS(clock.now()),
      step: step.text,
      outcome: verdict.ok ? "done" : "refused",
      ...(verdict.ok ? {} : { reason: verdict.reason }),
      expectRefused: step.expectRefused,
    };
    steps.push(entry);
    if (!verdict.ok && !step.expectRefused) log.warn({ step: step.text, reason: verdict.reason }, "lab --do: step refused");
  };
  for (const step of o.steps) if (!step.afterReady) clock.setTimeout(() => apply(step), step.atS * 1000);
  let readyAt: number | undefined;
  // Ready: every host idle, the unlocked ones in service (a host locked before it was ever enabled counts once idle).
  const allEnabled = () =>
    cp !== undefined &&
    hostsNow().every((h) => h.action === "none" && (h.administrative === "locked" || (h.operational === "enabled" && h.availability === "available")));
  // Settled: nothing in progress — no action or handler, nothing failed, no machine booting, no heartbeat fault still
  // being worked (degraded by heartbeat, held by MNFA), the control plane up.
  const HEARTBEAT_DEGRADE = DegradeMask.HeartbeatMgmt | DegradeMask.HeartbeatClstr;
  const settled = () =>
    cp !== undefined &&
    !outage &&
    !cp.agent.mnfa.active &&
    hostsNow().every(
      (h) =>
        h.action === "none" &&
        h.availability !== "failed" &&
        !h.handler &&
        !(h.degradeMask & HEARTBEAT_DEGRADE) &&
        // a machine that is up is seen again (a locked host back from a power-on is online, not offline)
        !(h.availability === "offline" && byName.get(h.hostname)?.state === "up" && !byName.get(h.hostname)?.linksDown.has("mgmt")),
    ) &&
    // every machine up, or off where maintenance powered it off
    machines.every((m) => m.state === "up" || (m.state === "off" && hostsNow().find((h) => h.hostname === m.hostname)?.availability === "power-off"));
  let settledSince: number | undefined;
  let finish: (() => void) | undefined;
  // Watch in real time: the first moment every host is in service starts the ready+T steps; with
  // --settle, the lab ends once every step ran and the hosts stayed settled for a while.
  const watcher = setInterval(() => {
    lines?.hosts(hostsNow());
    if (readyAt === undefined && allEnabled()) {
      readyAt = clock.now();
      for (const step of o.steps) if (step.afterReady) clock.setTimeout(() => apply(step), step.atS * 1000);
    }
    if (!o.settle || pending > 0 || readyAt === undefined) return;
    if (!settled()) settledSince = undefined;
    else if (settledSince === undefined) settledSince = Date.now();
    else if (Date.now() - settledSince >= Math.max(3_000, 20_000 / o.speed)) finish?.();
  }, 100);

  const results = (): LabHostResult[] =>
    hostsNow().map((h) => ({
      hostname: h.hostname,
      address: byName.get(h.hostname)?.ip ?? "",
      administrative: h.administrative,
      operational: h.operational,
      availability: h.availability,
      action: h.action,
      task: h.task,
      root: byName.get(h.hostname)?.root ?? "",
      machine: byName.get(h.hostname)?.state ?? "dead",
      boots: byName.get(h.hostname)?.boots ?? 0,
      bootTimesS: [...(byName.get(h.hostname)?.bootTimesS ?? [])],
      bmcActions: [...(byName.get(h.hostname)?.bmcActions ?? [])],
      ...(pmonLab ? { pmon: pmonLab.report(h.hostname) } : {}),
    }));
  const draw = () => {
    if (o.json || !tty) return;
    const t = new Table({ head: ["host", "administrative", "operational", "availability", "action", "task", "machine"], style: { head: [], border: [] } });
    for (const r of results()) t.push([r.hostname, r.administrative, r.operational, r.availability, r.action, r.task, r.machine]);
    const header = `metal lab: ${machines.length} hosts, speed x${o.speed}, lab time ${((clock.now() - started) / 1000).toFixed(0)} s${cp ? "" : " (control plane down: power outage)"}, ${alarms.active().length} alarms`;
    o.out.write(`\x1b[H\x1b[2J${envLine}\n${header}\n${t.toString()}\n`);
  };
  const drawTimer = setInterval(draw, 500);
  await new Promise<void>((resolve) => {
    const timer = o.durationS > 0 ? setTimeout(done, o.durationS * 1000) : undefined;
    finish = done;
    function done() {
      clearTimeout(timer);
      clearInterval(watcher);
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    }
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  clearInterval(drawTimer);

  lines?.hosts(hostsNow());
  const hosts = results();
  // A refused step fails the run unless it was written to be refused; a `!` step that went through fails it too.
  const refused = steps.filter((e) => e.outcome === "refused");
  const surprising = steps.filter((e) => (e.outcome === "refused") !== e.expectRefused);
  const result: LabResult = {
    ok: hosts.every((h) => h.action === "none" && h.availability !== "failed") && surprising.length === 0,
    hosts,
    alarms: [...alarms.active()],
    history,
    alarmHistory,
    steps,
    refused,
    ...(readyAt !== undefined ? { readyAtS: labS(readyAt) } : {}),
    elapsedS: labS(clock.now()),
    api: { url: apiUrl, tokenFile: apiToken.file },
  };
  stopping = true;
  await stopControlPlane();
  for (const m of machines) halt(m, "off");
  if (!o.keep) rmSync(base, { recursive: true, force: true });
  if (o.json) o.out.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const t = new Table({ head: ["host", "administrative", "operational", "availability", "task"], style: { head: [], border: [] } });
    for (const r of hosts) t.push([r.hostname, r.administrative, r.operational, r.availability, r.task]);
    o.out.write(
      `metal lab: final host states\n${t.toString()}\n${result.alarms.map((a) => `alarm ${a.id} ${a.hostname} ${a.severity}: ${a.text}`).join("\n")}\n${refused
        .map((e) => `refused at ${e.atS} s${e.expectRefused ? " (as expected)" : ""}: ${e.step}: ${e.reason}`)
        .join("\n")}\n`,
    );
  }
  return result;
}
