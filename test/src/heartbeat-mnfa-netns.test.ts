/**
 * MNFA through the real maintenance agent: the mtcAgent (MtcAgent with AgentMessaging and UdpHeartbeatControl,
 * in this process, on the management bridge as the floating controller address) keeps five in-service hosts;
 * every host namespace runs `metal client` (mtcClient) and `metal hbs-client`, both controllers `metal hbs-agent`.
 * Cutting three workers' management links at once makes the mtcAgent enter MNFA (threshold 2): heartbeat
 * backoff on both hbsAgents, the hosts pooled in "Graceful Recovery Wait", no host failed. Healing them exits
 * MNFA with graceful recovery: the period comes back and every host is enabled again without a reboot.
 * Needs root; without it the test fails, it never skips.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AgentMessaging } from "@metal/core/agent/messaging";
import { createAlarmManager, MtcAgent } from "@metal/core/agent/mtc-agent";
import { SystemClock } from "@metal/core/clock/index";
import { defaultConfig } from "@metal/core/config/index";
import { UdpHeartbeatControl } from "@metal/core/heartbeat/heartbeat-control";
import { FileInventoryStore } from "@metal/core/inventory/file-store";
import { newHostRecord } from "@metal/core/inventory/host";
import { createLogger } from "@metal/core/logging/index";
import { UdpTransport } from "@metal/core/transport/udp-transport";
import test from "ava";
import { NetnsLab, requireNetns } from "./netns-lab.js";
import { freeUdpPort, waitFor } from "./wait.js";

const main = fileURLToPath(new URL("../../packages/core/dist/src/cli/main.js", import.meta.url));
// This test starts the hosts' lab-mode clients and plays the lab that would restart them (ip netns exec inherits it).
process.env.METAL_LAB_SUPERVISOR = "heartbeat-mnfa-netns.test";

const HOSTS = [
  { hostname: "controller-0", octet: 1, personality: "controller" as const },
  { hostname: "controller-1", octet: 2, personality: "controller" as const },
  { hostname: "worker-0", octet: 10, personality: "worker" as const },
  { hostname: "worker-1", octet: 11, personality: "worker" as const },
  { hostname: "worker-2", octet: 12, personality: "worker" as const },
];
const mac = (octet: number) => `52:54:00:5a:00:${octet.toString(16).padStart(2, "0")}`;

test.serial("MNFA through the mtcAgent: three management links cut at once, backoff, graceful recovery on heal", async (t) => {
  requireNetns();
  const dir = mkdtempSync(join(tmpdir(), "metal-mnfa-netns-"));
  const lab = new NetnsLab(dir, { mgmt: "10.252", clusterHost: "10.253" });
  const stops: Array<() => Promise<void>> = [];
  try {
    lab.createBridges();
    for (const h of HOSTS) lab.addHost(h.hostname, h.octet);
    const agentPort = await freeUdpPort(lab.testIp);
    const eventPort = await freeUdpPort(lab.testIp);
    const mtcalarmPort = await freeUdpPort(lab.testIp);

    // The mtcAgent's inventory: five unlocked-enabled hosts, as after an agent restart.
    const agentRoot = join(dir, "mtc-agent");
    const store = new FileInventoryStore({ stateDir: join(agentRoot, "var/lib/metal") });
    for (const h of HOSTS) {
      const host = lab.host(h.hostname);
      const rec = newHostRecord({
        hostname: h.hostname,
        personality: h.personality,
        mgmtIp: host.mgmtIp,
        mgmtMac: mac(h.octet),
        clusterHostIp: host.clusterHostIp,
        administrative: "unlocked",
      });
      Object.assign(rec, { operational: "enabled", availability: "available", action: "none" });
      await store.save(rec);
    }
    const config = defaultConfig({
      root: agentRoot,
      system: { type: "standard" },
      node: { hostname: "controller-0", subfunctions: ["controller"] },
      networks: { mgmt: { address: lab.testIp, controller: lab.testIp } },
      ports: { agentMgmt: agentPort, hbsEvent: eventPort },
      heartbeat: { agents: HOSTS.filter((h) => h.personality === "controller").map((h) => ({ hostname: h.hostname, address: lab.host(h.hostname).mgmtIp })) },
      timeouts: { hostAddDelay: 1, heartbeatSoak: 3 },
      mnfa: { threshold: 2 },
      logging: { level: "warn" },
    });
    // Every host: mtcClient and hbsClient; the controllers: hbsAgent. The hbsAgents come up first so the
    // mtcAgent's ADD_HOST commands reach them.
    const configFor = (h: (typeof HOSTS)[number]) => {
      const host = lab.host(h.hostname);
      const root = join(dir, h.hostname);
      mkdirSync(join(root, "etc/platform"), { recursive: true });
      mkdirSync(join(root, "var/run"), { recursive: true });
      writeFileSync(join(root, "etc/platform/.initial_config_complete"), "");
      writeFileSync(join(root, "var/run/.config_pass"), "");
      return lab.writeConfig(h.hostname, {
        root,
        system: { type: "standard" },
        node: { hostname: h.hostname, subfunctions: [h.personality], mac: mac(h.octet) },
        networks: { mgmt: { address: host.mgmtIp, controller: lab.testIp }, clusterHost: { address: host.clusterHostIp } },
        ports: { agentMgmt: agentPort, hbsEvent: eventPort, mtcalarm: mtcalarmPort },
        heartbeat: { mode: "multicast", clientPmondFlag: "always", alarmAddress: lab.testIp },
        messaging: { nodeActions: "lab", mtcAlivePeriodMs: 1000, firstMtcAliveMs: 100, readyEventPeriodMs: 1000 },
        logging: { level: "warn" },
      });
    };
    const configs = new Map(HOSTS.map((h) => [h.hostname, configFor(h)]));
    const smPeriod = (c: string) =>
      (JSON.parse(lab.execIn(c, [process.execPath, main, "hbs", "cluster", "--json", "--config", configs.get(c)!])) as { periodMs: number }).periodMs;
    const controllers = HOSTS.filter((h) => h.personality === "controller").map((h) => h.hostname);
    for (const c of controllers) lab.spawnIn(c, `${c}-hbs-agent`, [process.execPath, main, "hbs-agent", "--config", configs.get(c)!]);
    await waitFor(
      "both hbsAgents answering SM",
      () => {
        try {
          return controllers.every((c) => smPeriod(c) === 100);
        } catch {
          return false;
        }
      },
      120_000, // includes both hbsAgent processes' start-up (10+ s each on a loaded machine)
      300,
    );

    // The clients come up before the mtcAgent, so the heartbeat it starts finds them answering; their ready
    // events repeat every second, so the mtcAgent still hears them.
    for (const h of HOSTS) {
      lab.spawnIn(h.hostname, `${h.hostname}-mtc-client`, [process.execPath, main, "client", "--config", configs.get(h.hostname)!]);
      lab.spawnIn(h.hostname, `${h.hostname}-hbs-client`, [process.execPath, main, "hbs-client", "--config", configs.get(h.hostname)!]);
    }
    await new Promise((r) => setTimeout(r, 4000));
    const clock = new SystemClock();
    const log = createLogger({ level: "warn", name: "mtcAgent-test" });
    const alarms = createAlarmManager(config, clock, log);
    const messaging = new AgentMessaging({ config, transport: new UdpTransport(), clock, logger: log, alarms });
    await messaging.start();
    stops.push(() => messaging.stop());
    const heartbeat = new UdpHeartbeatControl({
      agents: config.heartbeat.agents,
      cmdPort: config.ports.hbsCmd,
      eventAddress: lab.testIp,
      eventPort,
      hostname: "controller-0",
      clock,
      logger: log,
    });
    await heartbeat.start();
    stops.push(() => heartbeat.stop());
    const agent = new MtcAgent({ config, clock, log, messaging, heartbeat, alarms, store, directory: messaging, controllerUptimeS: 100_000 });
    const seen: string[] = [];
    heartbeat.onEvent((e) => seen.push(`${e.kind}/${e.hostname}/${e.network}/${e.from}`));
    await agent.start();
    stops.push(() => agent.stop());

    const view = (name: string) => agent.hosts().find((h) => h.hostname === name);
    const workers = ["worker-0", "worker-1", "worker-2"];

    // In service: the add handler's heartbeat soak passes for every host.
    await waitFor(
      "all hosts in service with the heartbeat running",
      () => HOSTS.every((h) => view(h.hostname)?.operational === "enabled" && view(h.hostname)?.action === "none" && !view(h.hostname)?.handler),
      60_000,
    );
    // Processes starting on a busy machine can blip the heartbeat at first; wait for a quiet cluster.
    await waitFor("no MNFA and the normal period before the cut", () => !agent.mnfa.active && controllers.every((c) => smPeriod(c) === 100), 30_000, 500);
    t.true(HOSTS.every((h) => view(h.hostname)?.operational === "enabled"));

    // Three workers lose their management link at once: MNFA enter, heartbeat backoff, hosts pooled, none failed.
    for (const w of workers) lab.link(w, "mgmt", "down");
    await waitFor("MNFA enter", () => agent.mnfa.active, 20_000).catch((err) => {
      t.log(seen.join("\n"));
      t.log(lab.logTail("controller-0-hbs-agent", 40));
      throw err;
    });
    await waitFor("the backed-off period on both hbsAgents", () => ["controller-0", "controller-1"].every((c) => smPeriod(c) === 400), 20_000, 300);
    await waitFor("the hosts pooled for graceful recovery", () => workers.every((w) => agent.mnfa.pool.has(w)), 10_000);
    t.true(workers.every((w) => view(w)?.task === "Graceful Recovery Wait"));
    t.true(
      workers.every((w) => view(w)?.operational === "enabled"),
      "no host failed while MNFA is active",
    );

    // Heal: MNFA exit, graceful recovery (no reboot: the hosts never went away), the period restored.
    for (const w of workers) lab.link(w, "mgmt", "up");
    await waitFor("MNFA exit", () => !agent.mnfa.active, 30_000);
    await waitFor("the recovered period on both hbsAgents", () => ["controller-0", "controller-1"].every((c) => smPeriod(c) === 100), 20_000, 300);
    await waitFor(
      "every worker recovered and in service",
      () =>
        workers.every((w) => view(w)?.operational === "enabled" && view(w)?.availability === "available" && view(w)?.action === "none" && !view(w)?.handler),
      60_000,
    );
    t.true(workers.every((w) => view(w)?.task === ""));
    t.false(
      alarms.active().some((a) => a.id === "200.004"),
      "no enable/recovery failure alarm",
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await lab.destroy();
    t.deepEqual(lab.leftovers(), [], "namespaces and bridges removed");
    rmSync(dir, { recursive: true, force: true });
  }
});
