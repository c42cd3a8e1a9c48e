/**
 * Running mtcAgent from the CLI: the plugins' BMC drivers, messaging over UDP, heartbeat control, the
 * maintenance FSMs and the REST API, until SIGTERM/SIGINT.
 */
import { MtcalarmReceiver } from "../alarms/mtcalarm-receiver.js";
import { AgentApi } from "../api/agent-api.js";
import { ClusterSource } from "../api/cluster-source.js";
import type { MetalConfig } from "../config/schema.js";
import { createMetalContainer } from "../di/container.js";
import { secretFromFile } from "../di/secret.js";
import { Tokens } from "../di/tokens.js";
import { createEtcdClient } from "../ha/etcd-client.js";
import { HaNode } from "../ha/ha-node.js";
import { UdpHeartbeatControl } from "../heartbeat/heartbeat-control.js";
import { agentPreflight } from "../security/preflight.js";
import { checkSecretRef, secretRefPath } from "../security/secret-policy.js";
import { sweepSecretTempDirs } from "../security/secret-temp.js";
import { datagramAuthFor } from "../transport/datagram-auth.js";
import { UdpTransport } from "../transport/udp-transport.js";
import { AgentMessaging } from "./messaging.js";
import { createAlarmManager, MtcAgent } from "./mtc-agent.js";

export interface RunningAgent {
  agent: MtcAgent;
  /** With `store.kind: etcd`: this controller's side of the pair (election, warm copy, ha status). */
  ha?: HaNode;
  api: { address: string; port: number };
  stop(): Promise<void>;
  /**
   * SIGHUP: take what is safe to change live from a freshly loaded config (log level, timeouts, auto-recovery
   * thresholds) into the running agent; returns what changed and what would need a restart. Nothing is lost:
   * hosts, queues and alarms stay as they are.
   */
  reload(next: MetalConfig): { applied: string[]; needsRestart: string[] };
}

/**
 * Start mtcAgent. Refuses (PreflightError, before any socket is bound) an unsafe start: a non-loopback API
 * without api.allowRemote, a missing, blank or group/world-readable token file.
 */
export async function startMtcAgent(config: MetalConfig): Promise<RunningAgent> {
  const { token } = agentPreflight(config);
  const container = await createMetalContainer({ config });
  const clock = container.resolve(Tokens.Clock);
  const log = container.resolve(Tokens.Logger).child({ svc: "mtcAgent" });
  // Password files a killed agent's ipmitool calls left behind.
  const swept = sweepSecretTempDirs("metal-ipmi-");
  if (swept.length) log.warn({ removed: swept.length }, "removed stale BMC secret temp dirs");
  const sec = config.security;
  const policy = { ...(sec.secretsDir ? { secretsDir: sec.secretsDir } : {}), allowSecretPaths: sec.allowSecretPaths };
  const alarms = createAlarmManager(config, clock, log);
  // Reads and checks security.clusterKeyFile before any socket is bound (ClusterKeyError: refuse to start).
  const auth = datagramAuthFor(config, log);
  const messaging = new AgentMessaging({ config, transport: new UdpTransport({ auth }), clock, logger: log, alarms });
  await messaging.start();
  const mgmt = config.networks.mgmt;
  const heartbeat = new UdpHeartbeatControl({
    agents: config.heartbeat.agents,
    cmdPort: config.ports.hbsCmd,
    eventAddress: mgmt.controller ?? mgmt.address ?? "127.0.0.1",
    eventPort: config.ports.hbsEvent,
    hostname: config.node.hostname,
    clock,
    logger: log,
    auth,
  });
  await heartbeat.start();
  // mtcalarmd's port: the hbsAgent's heartbeat and pmond alarms land in this agent's alarm table.
  const mtcalarm = new MtcalarmReceiver({ address: config.heartbeat.alarmAddress, port: config.ports.mtcalarm, auth, alarms, clock, log });
  await mtcalarm.start();
  const bmcRegistry = container.resolve(Tokens.BmcRegistry);
  const secrets = {
    checkSecretRef: (ref: string) => checkSecretRef(ref, policy),
    resolveSecret: (ref: string) => secretFromFile(secretRefPath(ref, policy) ?? ref),
  };
  let ha: HaNode | undefined;
  let agent: MtcAgent;
  if (config.store.kind === "etcd") {
    const apiUrl = config.ha.advertiseApi ?? `http://${config.api.address.includes(":") ? `[${config.api.address}]` : config.api.address}:${config.api.port}`;
    ha = new HaNode({
      config,
      etcd: createEtcdClient(config.store),
      clock,
      log,
      api: apiUrl,
      makeAgent: (store, gate, sm) =>
        new MtcAgent({ config, clock, log, messaging, heartbeat, alarms, directory: messaging, bmcRegistry, store, gate, sm, ...secrets }),
    });
    agent = ha.agent;
    await ha.start();
  } else {
    agent = new MtcAgent({ config, clock, log, messaging, heartbeat, alarms, directory: messaging, bmcRegistry, ...secrets });
    await agent.start();
  }
  const api = new AgentApi({
    agent,
    ...(ha ? { ha } : {}),
    log,
    cluster: ClusterSource.sm(config.ports),
    address: config.api.address,
    port: config.api.port,
    ...(token ? { token } : {}),
  });
  const bound = await api.start();
  log.info({ api: bound, hosts: agent.hosts().length }, "mtcAgent running");
  const root = container.resolve(Tokens.Logger);
  return {
    agent,
    ...(ha ? { ha } : {}),
    api: bound,
    reload: (next) => {
      const applied: string[] = [];
      const needsRestart: string[] = [];
      if (next.logging.level !== config.logging.level) {
        for (const l of [root, log]) (l as unknown as { level: string }).level = next.logging.level;
        config.logging.level = next.logging.level;
        applied.push("logging.level");
      }
      for (const k of ["timeouts", "autoRecovery"] as const) {
        if (JSON.stringify(next[k]) === JSON.stringify(config[k])) continue;
        Object.assign(config[k], next[k]);
        applied.push(k);
      }
      for (const k of ["api", "networks", "ports", "security", "maintenance", "heartbeat", "plugins"] as const)
        if (JSON.stringify(next[k]) !== JSON.stringify(config[k])) needsRestart.push(k);
      log.info({ applied, needsRestart }, "configuration reloaded (SIGHUP)");
      return { applied, needsRestart };
    },
    stop: async () => {
      await api.stop();
      if (ha) await ha.stop();
      else await agent.stop();
      await heartbeat.stop();
      await mtcalarm.stop();
      await messaging.stop();
    },
  };
}
