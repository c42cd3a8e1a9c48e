import { createSocket, type Socket } from "node:dgram";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeSchema } from "../config/ha-schema.js";
import type { MetalConfigInput } from "../config/index.js";
import { createEtcdClient } from "../ha/etcd-client.js";
import { EtcdInventoryStore } from "../inventory/etcd-store.js";
import { newHostRecord } from "../inventory/host.js";
import type { HostRecord } from "../inventory/store.js";
import { freeUdpPorts } from "../transport/free-ports.js";
import { MtcCmd, mtcCodeName } from "../wire/mtc-codes.js";
import { decodeMtcMessage } from "../wire/mtc-message.js";
import { type AgentHaView, AgentProcess } from "./agent-process.js";
import { EtcdCluster, freeTcpPorts } from "./etcd-cluster.js";

/** One command a host received: when, from which agent address, which code. */
export interface ReceivedCommand {
  at: number;
  host: string;
  from: string;
  cmd: string;
}

/**
 * The controller pair on loopback (issue 12), for the lab, the HA tests and the failover bench: a 3-member etcd cluster,
 * one `metal agent` process per controller (controller-N's agent on 127.0.2.(10+N)), the inventory seeded into etcd
 * (both controllers and `workers` workers, in service unless `locked`), and at every host's mgmt address a listener that
 * records each maintenance command it receives and from which agent (the hosts' side of "no command repeated").
 */
export interface HaPairOptions {
  workers: number;
  leaseTtlS?: number;
  /** Workers seeded locked-disabled-online instead of in service. */
  locked?: boolean;
  logLevel?: "info" | "warn" | "error" | "debug";
  /** Extra agent config, merged over the pair's. */
  config?: MetalConfigInput;
  keep?: boolean;
}

export const agentAddress = (i: number) => `127.0.2.${10 + i}`;
export const pairHostAddress = (i: number) => `127.0.3.${i + 1}`;

export class HaPair {
  readonly commands: ReceivedCommand[] = [];
  private readonly sockets: Socket[] = [];

  private constructor(
    readonly dir: string,
    readonly etcd: EtcdCluster,
    readonly agents: AgentProcess[],
    readonly prefix: string,
    readonly tokenFile: string,
    readonly hostnames: string[],
    private readonly keep: boolean,
  ) {}

  static async start(o: HaPairOptions): Promise<HaPair> {
    const dir = mkdtempSync(join(tmpdir(), "metal-ha-"));
    let etcd: EtcdCluster | undefined;
    try {
      etcd = await EtcdCluster.start({ baseDir: join(dir, "etcd") });
      const prefix = "/metal";
      const [agentMgmt, agentPxeboot, clientMgmt, hbsCmd, hbsEvent, smServer0, smClient0, smServer1, smClient1, mtcalarm] = await freeUdpPorts(10);
      const apiPorts = await freeTcpPorts(2);
      const tokenFile = join(dir, "api-token");
      writeFileSync(tokenFile, `ha-pair-${process.pid}-${Date.now()}\n`);
      chmodSync(tokenFile, 0o600);
      const sm = [
        [smServer0, smClient0],
        [smServer1, smClient1],
      ];
      const agents = [0, 1].map((i) => {
        const hostname = `controller-${i}`;
        const adir = join(dir, hostname);
        mkdirSync(adir, { recursive: true });
        const ip = agentAddress(i);
        const config: MetalConfigInput = {
          root: join(adir, "root"),
          node: { hostname, subfunctions: ["controller"] },
          networks: { mgmt: { address: ip, controller: ip } },
          ports: { agentMgmt, agentPxeboot, clientMgmt, hbsCmd, hbsEvent, mtcalarm, smServer: sm[i]?.[0] as number, smClient: sm[i]?.[1] as number },
          api: { address: "127.0.0.1", port: apiPorts[i] as number, tokenFile },
          // No hbsAgent in the pair harness: no heartbeat soak to wait for.
          heartbeat: { agents: [], failureAction: "none", alarmAddress: ip },
          timeouts: { hostAddDelay: 1, cmdResponse: 1 },
          store: { kind: "etcd", endpoints: etcd?.endpoints ?? [], prefix },
          ha: { leaseTtlS: o.leaseTtlS ?? 3 },
          maintenance: { stateDir: join(adir, "state") },
          messaging: { cmdResponseTimeoutMs: 2000 },
          plugins: { discover: false },
          logging: { level: o.logLevel ?? "info" },
          ...o.config,
        };
        return new AgentProcess(hostname, adir, `http://127.0.0.1:${apiPorts[i]}`, config);
      });
      const hosts: HostRecord[] = [];
      const inService = (r: HostRecord) => Object.assign(r, { operational: "enabled", availability: "available", action: "none", task: "" });
      for (let i = 0; i < 2; i++) {
        hosts.push(inService(newHostRecord({ hostname: `controller-${i}`, personality: "controller", mgmtIp: agentAddress(i), administrative: "unlocked" })));
      }
      for (let i = 0; i < o.workers; i++) {
        const r = newHostRecord({
          hostname: `worker-${i}`,
          personality: "worker",
          mgmtIp: pairHostAddress(i),
          administrative: o.locked ? "locked" : "unlocked",
        });
        hosts.push(o.locked ? Object.assign(r, { availability: "online" }) : inService(r));
      }
      const client = createEtcdClient(storeSchema.parse({ kind: "etcd", endpoints: etcd.endpoints, prefix }));
      try {
        await new EtcdInventoryStore(client, prefix).importSnapshot({ hosts, alarms: [] });
      } finally {
        client.close();
      }
      const pair = new HaPair(
        dir,
        etcd,
        agents,
        prefix,
        tokenFile,
        hosts.map((h) => h.hostname),
        o.keep ?? false,
      );
      for (const h of hosts) await pair.listen(h.hostname, h.mgmtIp as string, clientMgmt as number);
      for (const a of agents) a.start();
      return pair;
    } catch (err) {
      await etcd?.stop();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async listen(host: string, address: string, port: number): Promise<void> {
    const s = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(port, address, () => resolve());
    });
    s.on("message", (data, rinfo) => {
      const d = decodeMtcMessage(data);
      if (d.ok) this.commands.push({ at: Date.now(), host, from: rinfo.address, cmd: mtcCodeName(d.msg.cmd) });
    });
    this.sockets.push(s);
  }

  /** Commands that change a host (everything but the mtcAlive request), optionally since `at`. */
  actions(since = 0): ReceivedCommand[] {
    const req = mtcCodeName(MtcCmd.MTC_REQ_MTCALIVE);
    return this.commands.filter((c) => c.at >= since && c.cmd !== req);
  }

  /** Every agent's `GET /v1/ha` (undefined for one that does not answer). */
  async views(): Promise<Array<AgentHaView | undefined>> {
    return Promise.all(this.agents.map((a) => (a.running && !a.paused ? a.ha() : Promise.resolve(undefined))));
  }

  /** The index of the one acting agent, when exactly one acts. */
  async activeIndex(): Promise<number | undefined> {
    const v = await this.views();
    const acting = v.map((x, i) => (x?.acting ? i : -1)).filter((i) => i >= 0);
    return acting.length === 1 ? acting[0] : undefined;
  }

  /** Poll (every 50 ms, at most `limitMs`) until `pred` holds; throws naming `what`. */
  async waitFor(what: string, pred: () => Promise<boolean> | boolean, limitMs = 20_000): Promise<void> {
    const until = Date.now() + limitMs;
    while (!(await pred())) {
      if (Date.now() > until) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.stop()));
    for (const s of this.sockets) s.close();
    await this.etcd.stop();
    if (!this.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
