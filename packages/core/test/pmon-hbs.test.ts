/**
 * pmond's alive pulse makes PMOND_FLAG real (issue 13; reference mtce-core.md §3.2, §9): a real `metal pmon`
 * process pulses a real hbsClient; the active hbsAgent sees the flag. pmond killed → the flag goes → after
 * PMOND_MISSING_THRESHOLD pulses the hbsAgent raises 200.006 "pmond" and sends PMOND_RAISE; pmond back → clear.
 * pmond exits 0 on SIGTERM within the 2 s every daemon is allowed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import type { HeartbeatEvent } from "../src/agent/ports.js";
import { SystemClock } from "../src/clock/system-clock.js";
import { defaultConfig, type MetalConfigInput } from "../src/config/index.js";
import { HbsAgent } from "../src/heartbeat/hbs-agent.js";
import { HbsClient } from "../src/heartbeat/hbs-client.js";
import { UdpHeartbeatControl } from "../src/heartbeat/heartbeat-control.js";
import { MtcalarmRelay } from "../src/heartbeat/mtcalarm-relay.js";
import { silentLogger } from "../src/logging/logger.js";
import { eventually, METAL_MAIN } from "./helpers/client-process.js";
import { freeUdpPorts } from "./helpers/udp.js";

const CONTROLLER = "127.0.68.1";
const WORKER = "127.0.68.10";
const AGENT = "127.0.68.100";

test("pmond killed: hbsClient drops PMOND_FLAG, the active hbsAgent raises 200.006 'pmond'; pmond back: cleared", async (t) => {
  const names = ["hbsAgentMgmt", "hbsClientMgmt", "hbsCmd", "hbsEvent", "agentMgmt", "smServer", "smClient", "pmonPulse", "amon"] as const;
  const free = await freeUdpPorts(names.length);
  const port = Object.fromEntries(names.map((n, i) => [n, free[i] as number])) as Record<(typeof names)[number], number>;
  const { amon, ...ports } = port;
  const root = mkdtempSync(join(tmpdir(), "metal-pmon-hbs-"));
  const base = (hostname: string, address: string, extra: Partial<MetalConfigInput> = {}): MetalConfigInput => ({
    root: join(root, hostname),
    node: { hostname, subfunctions: [hostname.startsWith("controller") ? "controller" : "worker"] },
    networks: { mgmt: { address, controller: AGENT } },
    ports,
    heartbeat: { mode: "unicast", clientPmondFlag: "pulses" },
    ...extra,
  });
  const clock = new SystemClock();
  const logger = silentLogger();
  const alarms = new MtcalarmRelay(clock);
  const agent = new HbsAgent({ config: defaultConfig(base("controller-0", CONTROLLER)), clock, logger, alarms });
  const workerCfg = base("worker-0", WORKER, { pmon: { loopbackAddress: WORKER, amonPort: amon, auditPeriodMs: 500 }, logging: { level: "warn" } });
  const client = new HbsClient({ config: defaultConfig(workerCfg), clock, logger });
  const control = new UdpHeartbeatControl({
    agents: [{ hostname: "controller-0", address: CONTROLLER }],
    cmdPort: ports.hbsCmd,
    eventAddress: AGENT,
    eventPort: ports.hbsEvent,
    hostname: "controller-0",
    clock,
    logger,
  });
  const events: HeartbeatEvent[] = [];
  control.onEvent((e) => events.push(e));
  mkdirSync(join(root, "worker-0", "etc/pmon.d"), { recursive: true });
  const cfgFile = join(root, "worker-0.json");
  writeFileSync(cfgFile, JSON.stringify(workerCfg));
  let pmond: ChildProcess | undefined;
  let stderr = "";
  const startPmond = () => {
    const p = spawn(process.execPath, [METAL_MAIN, "pmon", "--config", cfgFile], { stdio: ["ignore", "ignore", "pipe"] });
    p.stderr?.on("data", (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
    pmond = p;
    return p;
  };
  t.teardown(async () => {
    pmond?.kill("SIGKILL");
    await agent.stop();
    await client.stop();
    await control.stop();
    rmSync(root, { recursive: true, force: true });
  });

  await control.start();
  await agent.start();
  await client.start();
  control.activeController("controller-0");
  control.addHost({ hostname: "worker-0", mgmtIp: WORKER, nodeType: 2 });
  control.startHost("worker-0");
  const pmondAlarm = () => alarms.active().find((a) => a.id === "200.006" && a.hostname === "worker-0");

  // No pmond yet: after 100 pulses without the flag the hbsAgent raises the pmond alarm.
  t.true(await eventually(() => events.some((e) => e.kind === "pmondRaise" && e.hostname === "worker-0"), 60_000), "pmond missing raised");
  t.is(pmondAlarm()?.entity, "pmond");

  // pmond runs: its pulses bring the flag back.
  startPmond();
  t.true(
    await eventually(() => events.some((e) => e.kind === "pmondClear" && e.hostname === "worker-0"), 60_000),
    `pmond back cleared; pmond stderr: ${stderr}`,
  );
  t.is(pmondAlarm(), undefined);

  // pmond killed: raised again.
  const raises = events.filter((e) => e.kind === "pmondRaise").length;
  pmond?.kill("SIGKILL");
  t.true(await eventually(() => events.filter((e) => e.kind === "pmondRaise").length > raises, 60_000), "pmond killed raised");
  t.truthy(pmondAlarm());

  // Back again, then a clean SIGTERM stop: exit 0, promptly.
  const clears = events.filter((e) => e.kind === "pmondClear").length;
  const p = startPmond();
  t.true(await eventually(() => events.filter((e) => e.kind === "pmondClear").length > clears, 60_000), "cleared again");
  const exited = new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
  const sent = Date.now();
  p.kill("SIGTERM");
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), 10_000))]);
  t.is(code, 0, `pmond's exit on SIGTERM; stderr: ${stderr}`);
  t.log(`pmond stopped ${Date.now() - sent} ms after SIGTERM`);
});
