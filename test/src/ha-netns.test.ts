/**
 * The controller pair across network namespaces (issue 12): each controller's `metal agent` runs in its own namespace,
 * the 3-member etcd sits on the cluster-host bridge and the hosts (command recorders of this test) on the management
 * bridge. Cutting controller-0's cluster-host link cuts it from the etcd majority and from its peer while its hosts
 * still answer it on management: controller-1 must lead and controller-0 stand down; healed, exactly one acts.
 * Needs root; without it the test fails, it never skips.
 */
import { execFileSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeSchema } from "@metal/core/config/ha-schema";
import { createEtcdClient } from "@metal/core/ha/etcd-client";
import { EtcdInventoryStore } from "@metal/core/inventory/etcd-store";
import { newHostRecord } from "@metal/core/inventory/host";
import type { HostRecord } from "@metal/core/inventory/store";
import { type AgentHaView, AgentProcess } from "@metal/core/lab/agent-process";
import { EtcdCluster } from "@metal/core/lab/etcd-cluster";
import { MtcCmd, mtcCodeName } from "@metal/core/wire/mtc-codes";
import { decodeMtcMessage } from "@metal/core/wire/mtc-message";
import test from "ava";
import { NetnsLab, requireNetns } from "./netns-lab.js";
import { freeUdpPort, waitFor } from "./wait.js";

const TTL = 3;
const API_PORT = 8095;
const WORKERS = 3;

test.serial("netns: controller-0 cut from etcd and its peer (hosts still reachable) stands down, controller-1 leads; healed, one active only", async (t) => {
  t.timeout(300_000);
  requireNetns();
  const dir = mkdtempSync(join(tmpdir(), "metal-ha-netns-"));
  const lab = new NetnsLab(dir, { mgmt: "10.246", clusterHost: "10.247" });
  const sockets: Socket[] = [];
  const agents: AgentProcess[] = [];
  let etcd: EtcdCluster | undefined;
  const commands: Array<{ at: number; host: string; from: string; cmd: string }> = [];
  try {
    lab.createBridges();
    const etcdIp = `${lab.clstrNet}.254`;
    execFileSync("ip", ["addr", "add", `${etcdIp}/24`, "dev", lab.clstrBridge]);
    const c = [lab.addHost("controller-0", 1), lab.addHost("controller-1", 2)];
    etcd = await EtcdCluster.start({ baseDir: join(dir, "etcd"), address: etcdIp, startTimeoutMs: 60_000 });
    const clientMgmt = await freeUdpPort(lab.testIp);
    // The workers: addresses of this test on the management bridge, each recording the commands it receives.
    const workers: HostRecord[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const ip = `${lab.mgmtNet}.${101 + i}`;
      execFileSync("ip", ["addr", "add", `${ip}/24`, "dev", lab.mgmtBridge]);
      const r = newHostRecord({ hostname: `worker-${i}`, personality: "worker", mgmtIp: ip, administrative: "unlocked" });
      workers.push(Object.assign(r, { operational: "enabled", availability: "available", action: "none", task: "" }));
      const s = createSocket("udp4");
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.bind(clientMgmt, ip, () => resolve());
      });
      s.on("message", (data, rinfo) => {
        const d = decodeMtcMessage(data);
        if (d.ok && d.msg.cmd !== MtcCmd.MTC_REQ_MTCALIVE)
          commands.push({ at: Date.now(), host: `worker-${i}`, from: rinfo.address, cmd: mtcCodeName(d.msg.cmd) });
      });
      sockets.push(s);
    }
    const controllers = c.map((h) =>
      Object.assign(newHostRecord({ hostname: h.hostname, personality: "controller", mgmtIp: h.mgmtIp, administrative: "unlocked" }), {
        operational: "enabled",
        availability: "available",
        action: "none",
        task: "",
      }),
    );
    const prefix = "/metal";
    const client = createEtcdClient(storeSchema.parse({ kind: "etcd", endpoints: etcd.endpoints, prefix }));
    try {
      await new EtcdInventoryStore(client, prefix).importSnapshot({ hosts: [...controllers, ...workers], alarms: [] });
    } finally {
      client.close();
    }
    const tokenFile = join(dir, "api-token");
    writeFileSync(tokenFile, `ha-netns-${process.pid}\n`, { mode: 0o600 });
    for (const h of c) {
      const adir = join(dir, h.hostname);
      mkdirSync(adir, { recursive: true });
      const a = new AgentProcess(
        h.hostname,
        adir,
        `http://${h.mgmtIp}:${API_PORT}`,
        {
          root: join(adir, "root"),
          node: { hostname: h.hostname, subfunctions: ["controller"] },
          networks: { mgmt: { address: h.mgmtIp, controller: h.mgmtIp } },
          ports: { clientMgmt },
          api: { address: h.mgmtIp, port: API_PORT, tokenFile, allowRemote: true },
          heartbeat: { agents: [], failureAction: "none", alarmAddress: h.mgmtIp },
          timeouts: { hostAddDelay: 1, cmdResponse: 1 },
          store: { kind: "etcd", endpoints: etcd.endpoints, prefix },
          ha: { leaseTtlS: TTL },
          maintenance: { stateDir: join(adir, "state") },
          messaging: { cmdResponseTimeoutMs: 2000 },
          plugins: { discover: false },
          logging: { level: "info" },
        },
        ["ip", "netns", "exec", h.ns],
      );
      agents.push(a);
      a.start();
    }
    const views = () => Promise.all(agents.map((a) => (a.running ? a.ha() : Promise.resolve(undefined))));
    const acting = async () => (await views()).map((v, i) => (v?.acting ? i : -1)).filter((i) => i >= 0);
    await waitFor("one active agent", async () => (await acting()).length === 1, 120_000);
    // controller-0 leads for the cut: swact to it when controller-1 won the first election.
    if ((await acting())[0] === 1) {
      const token = readFileSync(tokenFile, "utf8").trim();
      const res = await fetch(`${agents[1]?.apiUrl}/v1/hosts/controller-1`, {
        method: "PATCH",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ action: "swact" }),
      });
      t.true(res.status < 300, await res.text());
    }
    await waitFor("controller-0 leads", async () => (await acting()).join() === "0", 60_000);
    const v0 = (await agents[0]?.ha()) as AgentHaView;
    // Settled: every host resumed (the cold start's host-services commands sent), and the commands are over.
    await waitFor(
      "controller-0 settles every host",
      async () => {
        const hosts = await agents[0]?.hosts();
        return hosts?.length === 2 + WORKERS && hosts.every((h) => h.action === "none" && h.handler === undefined);
      },
      90_000,
    );
    await waitFor("the hosts are quiet", () => Date.now() - (commands.at(-1)?.at ?? 0) >= 3000, 60_000);

    t.true(
      commands.some((x) => x.host.startsWith("worker-")),
      "the workers got the cold start's commands over management",
    );
    lab.link("controller-0", "clusterHost", "down");
    const cutAt = Date.now();
    await waitFor("controller-1 leads after the cut", async () => (await agents[1]?.ha())?.acting === true, 60_000);
    // controller-0 is still reachable on management (its API answers there) and says it stood down.
    let down: AgentHaView | undefined;
    await waitFor(
      "controller-0 records its loss",
      async () => {
        down = await agents[0]?.ha();
        return down?.acting === false && down.history.some((e) => e.kind === "lost" && e.at >= cutAt);
      },
      60_000,
    );
    const lost = down?.history.find((e) => e.kind === "lost" && e.at >= cutAt);
    t.regex(lost?.reason ?? "", /keepalive|quorum|TTL/, JSON.stringify(down?.history));
    // It stopped acting by its own clock within a TTL of the cut (its last keepalive was sent before it).
    t.true((lost?.actingUntil ?? Number.POSITIVE_INFINITY) <= cutAt + TTL * 1000, `acting until ${(lost?.actingUntil ?? 0) - cutAt} ms after the cut`);
    const elected1 = (await agents[1]?.ha())?.history.filter((e) => e.kind === "elected").at(-1);
    t.true((elected1?.epoch ?? 0) > (v0.epoch ?? 0), "a new epoch");
    t.true((elected1?.at ?? 0) >= (lost?.actingUntil ?? Number.POSITIVE_INFINITY), "controller-1 was elected only after controller-0 stopped acting");
    // From the moment it stopped acting, controller-0 sent its hosts nothing.
    t.deepEqual(
      commands.filter((x) => x.from === c[0]?.mgmtIp && x.at > (lost?.actingUntil ?? 0) + 100),
      [],
    );

    lab.link("controller-0", "clusterHost", "up");
    await waitFor(
      "healed controller-0 follows controller-1",
      async () => {
        const v = await agents[0]?.ha();
        return v?.role === "standby" && v.leader?.hostname === "controller-1";
      },
      60_000,
    );
    // One active only, sampled over two TTLs.
    for (let k = 0; k < 8; k++) {
      t.deepEqual(await acting(), [1], `sample ${k}`);
      await new Promise((r) => setTimeout(r, (2 * TTL * 1000) / 8));
    }
  } catch (err) {
    for (const a of agents) t.log(`${a.hostname}:\n${readFileSync(a.logFile, "utf8").split("\n").slice(-15).join("\n")}`);
    throw err;
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    for (const s of sockets) s.close();
    await etcd?.stop();
    await lab.destroy();
    t.deepEqual(lab.leftovers(), []);
    rmSync(dir, { recursive: true, force: true });
  }
});
