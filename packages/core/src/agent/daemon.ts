/**
 * Running mtcAgent from the CLI: the plugins' BMC drivers, messaging over UDP, heartbeat control, the
 * maintenance FSMs and the REST API, until SIGTERM/SIGINT.
 */
import { AgentApi } from "../api/agent-api.js";
import { ClusterSource } from "../api/cluster-source.js";
import type { MetalConfig } from "../config/schema.js";
import { createMetalContainer } from "../di/container.js";
import { secretFromFile } from "../di/secret.js";
import { Tokens } from "../di/tokens.js";
import { createEtcdClient } from "../ha/etcd-client.js";
import { HaNode } from "../ha/ha-node.js";
import { UdpHeartbeatControl } from "../heartbeat/heartbeat-control.js";
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
}

export async function startMtcAgent(config: MetalConfig): Promise<RunningAgent> {
  const container = await createMetalContainer({ config });
  const clock = container.resolve(Tokens.Clock);
  const log = container.resolve(Tokens.Logger).child({ svc: "mtcAgent" });
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
  const bmcRegistry = container.resolve(Tokens.BmcRegistry);
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
      makeAgent: (store, gate, sm) => new MtcAgent({ config, clock, log, messaging, heartbeat, alarms, directory: messaging, bmcRegistry, store, gate, sm }),
    });
    agent = ha.agent;
    await ha.start();
  } else {
    agent = new MtcAgent({ config, clock, log, messaging, heartbeat, alarms, directory: messaging, bmcRegistry });
    await agent.start();
  }
  const api = new AgentApi({
    agent,
    ...(ha ? { ha } : {}),
    log,
    cluster: ClusterSource.sm(config.ports),
    address: config.api.address,
    port: config.api.port,
    ...(config.api.tokenFile ? { token: secretFromFile(config.api.tokenFile) } : {}),
  });
  const bound = await api.start();
  log.info({ api: bound, hosts: agent.hosts().length }, "mtcAgent running");
  return {
    agent,
    ...(ha ? { ha } : {}),
    api: bound,
    stop: async () => {
      await api.stop();
      if (ha) await ha.stop();
      else await agent.stop();
      await heartbeat.stop();
      await messaging.stop();
    },
  };
}
