import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecutionContext } from "ava";
import { AgentMessaging } from "../../src/agent/messaging.js";
import type { HostMessage } from "../../src/agent/ports.js";
import { SystemClock } from "../../src/clock/system-clock.js";
import { defaultConfig, type MetalConfigInput } from "../../src/config/index.js";
import { nodePaths } from "../../src/config/paths.js";
import { datagramAuthFor } from "../../src/transport/datagram-auth.js";
import type { Transport } from "../../src/transport/transport.js";
import { UdpTransport } from "../../src/transport/udp-transport.js";
import { captureLogger } from "./capture-logger.js";
import { MemoryAlarms } from "./memory-alarms.js";
import { freeMessagingPorts } from "./udp.js";

/** Bound (ms) on a `metal client` process's start-up, before its traffic is waited for. */
const CLIENT_START_MS = 120_000;

export const METAL_MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface RealPair {
  hostname: string;
  hostIp: string;
  mac: string;
  root: string;
  paths: ReturnType<typeof nodePaths>;
  agent: AgentMessaging;
  alarms: MemoryAlarms;
  messages: HostMessage[];
  agentLog: Array<Record<string, unknown>>;
  client: ChildProcess;
  clientLog: () => string;
  ports: { agentMgmt: number; agentClstr: number; agentPxeboot: number; clientMgmt: number; clientClstr: number; clientPxeboot: number };
  waitFor<T extends HostMessage>(pred: (m: HostMessage) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(pred: (m: HostMessage) => boolean, timeoutMs?: number): Promise<HostMessage>;
}

export interface PairOptions {
  hostIp: string;
  hostname?: string;
  subfunctions?: string[];
  /** Extra client config (merged over the generated one). */
  client?: (c: MetalConfigInput) => MetalConfigInput;
  /** Extra agent messaging settings. */
  agentMessaging?: Record<string, unknown>;
  /** Where the client sends pxeboot traffic (default: the agent). */
  clientPxebootController?: string;
  /** The agent's transport (default: UDP); tests wrap it to cut a network. */
  transport?: Transport;
  /** Run both sides keyed (security.clusterKeyFile); `clientKeyFile` gives the client another file (rotation). */
  clusterKeyFile?: string;
  clientKeyFile?: string;
  /** Prepare the root before the client starts. */
  prepare?: (paths: ReturnType<typeof nodePaths>) => void;
  /** Extra `metal client` arguments (e.g. --provisioned). */
  clientArgs?: string[];
}

/** A real agent messaging stack in this process and a real `metal client` process, on loopback, with their own ports. */
export async function startPair(t: ExecutionContext, o: PairOptions): Promise<RealPair> {
  const ports = await freeMessagingPorts();
  const { agentMgmt, agentClstr, agentPxeboot, clientMgmt, clientClstr, clientPxeboot } = ports;
  const hostname = o.hostname ?? "worker-1";
  const mac = `52:54:00:00:${o.hostIp
    .split(".")
    .slice(-2)
    .map((x) => Number(x).toString(16).padStart(2, "0"))
    .join(":")}`;
  const root = mkdtempSync(join(tmpdir(), "metal-client-"));
  const paths = nodePaths(root);
  mkdirSync(paths.varRun, { recursive: true });
  o.prepare?.(paths);
  const shared = {
    ports: { agentMgmt, agentPxeboot, clientMgmt, clientClstr, clientPxeboot },
  };
  const agentConfig = defaultConfig({
    ...shared,
    networks: { mgmt: { controller: "127.0.0.1" }, clusterHost: { controller: "127.0.0.1" }, pxeboot: { controller: "127.0.0.1" } },
    messaging: { agentClstrPort: agentClstr, ...o.agentMessaging },
    ...(o.clusterKeyFile ? { security: { clusterKeyFile: o.clusterKeyFile } } : {}),
  });
  let clientConfig: MetalConfigInput = {
    ...shared,
    root,
    node: { hostname, subfunctions: (o.subfunctions ?? ["worker"]) as Array<"worker">, mac },
    networks: {
      mgmt: { address: o.hostIp, controller: "127.0.0.1" },
      clusterHost: { address: o.hostIp, controller: "127.0.0.1" },
      pxeboot: { address: o.hostIp, controller: o.clientPxebootController ?? "127.0.0.1" },
    },
    messaging: { agentClstrPort: agentClstr, mtcAlivePeriodMs: 500, firstMtcAliveMs: 100, nodeActions: "lab" },
    timeouts: { goenabled: 20, hostServices: 20 },
    logging: { level: "debug" },
    ...(o.clientKeyFile || o.clusterKeyFile ? { security: { clusterKeyFile: o.clientKeyFile ?? o.clusterKeyFile } } : {}),
  };
  if (o.client) clientConfig = o.client(clientConfig);
  const cfgFile = join(root, "client.json");
  writeFileSync(cfgFile, JSON.stringify(clientConfig));

  const { logger, lines } = captureLogger();
  const alarms = new MemoryAlarms();
  const agent = new AgentMessaging({
    config: agentConfig,
    transport: o.transport ?? new UdpTransport({ auth: datagramAuthFor(agentConfig, logger) }),
    clock: new SystemClock(),
    logger,
    alarms,
  });
  await agent.start();
  agent.setHost({ hostname, mgmtIp: o.hostIp, mgmtMac: mac });
  const messages: HostMessage[] = [];
  agent.onMessage((m) => messages.push(m));

  const client = spawn(process.execPath, [METAL_MAIN, "client", "--config", cfgFile, ...(o.clientArgs ?? [])], {
    stdio: ["ignore", "ignore", "pipe"],
    // The test plays the lab that restarts a lab-mode client (nodeActions: lab needs a supervisor).
    env: { ...process.env, METAL_LAB_SUPERVISOR: "client-process helper" },
  });
  let stderr = "";
  // Node start-up of the CLI alone takes 10+ s on a loaded 2-core machine: a wait for the client's traffic
  // counts from its "mtcClient starting" line (or its exit), the start-up itself bounded by CLIENT_START_MS.
  let markStarted = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const startBound = setTimeout(markStarted, CLIENT_START_MS);
  client.once("exit", markStarted);
  client.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
    if (stderr.includes("mtcClient starting")) markStarted();
  });
  void started.then(() => clearTimeout(startBound));
  t.teardown(async () => {
    if (client.exitCode === null) {
      const gone = new Promise((r) => client.once("exit", r));
      client.kill("SIGTERM");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (client.exitCode === null) client.kill("SIGKILL");
    }
    await agent.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function waitFor(pred: (m: HostMessage) => boolean, timeoutMs = 30_000): Promise<HostMessage> {
    const early = messages.find(pred);
    if (early) return early;
    await started;
    const seen = messages.find(pred);
    if (seen) return seen;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no matching HostMessage within ${timeoutMs} ms; client stderr tail:\n${stderr.slice(-3000)}`));
      }, timeoutMs);
      const off = agent.onMessage((m) => {
        if (pred(m)) {
          clearTimeout(timer);
          off();
          resolve(m);
        }
      });
    });
  }
  return {
    hostname,
    hostIp: o.hostIp,
    mac,
    root,
    paths,
    agent,
    alarms,
    messages,
    agentLog: lines,
    client,
    clientLog: () => stderr,
    ports,
    waitFor: waitFor as RealPair["waitFor"],
  };
}

/** Poll a condition (bounded): true when it held within the time. */
export async function eventually(pred: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (pred()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function writeScript(path: string, body: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}
