/**
 * Issue 11, "spoofed datagrams to the agent": a keyed mtcAgent (its real UDP inbox and heartbeat event socket on
 * loopback, a fake BMC behind the host) is sent a degrade request, an mtcAlive with a new uptime, an hbs pmond
 * event (200.006) and an HWMON power-cycle event, from 127.0.0.77 and unsigned from the host's own address: none
 * changes anything. The same datagrams signed with the cluster key from the host and the hbsAgent are obeyed, and
 * a replay of them is refused.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { AgentMessaging } from "../src/agent/messaging.js";
import { createAlarmManager, MtcAgent } from "../src/agent/mtc-agent.js";
import { SystemClock } from "../src/clock/system-clock.js";
import { defaultConfig } from "../src/config/index.js";
import { builtinPlugins, createMetalContainer } from "../src/di/container.js";
import { Tokens } from "../src/di/tokens.js";
import { encodeHbsEvent } from "../src/heartbeat/hbs-messages.js";
import { UdpHeartbeatControl } from "../src/heartbeat/heartbeat-control.js";
import { newHostRecord } from "../src/inventory/host.js";
import { MemoryInventoryStore } from "../src/inventory/memory-store.js";
import { silentLogger } from "../src/logging/logger.js";
import { FakeBmcFabric } from "../src/testing/fake-bmc.js";
import { loadClusterKeys } from "../src/transport/cluster-key.js";
import { datagramAuthFor, KeyedDatagrams } from "../src/transport/datagram-auth.js";
import { UdpTransport } from "../src/transport/udp-transport.js";
import { mtcAliveMessage } from "../src/wire/mtc-alive.js";
import { MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF, MtcEvent } from "../src/wire/mtc-codes.js";
import { encodeMtcMessage, mtcMessage, Signature } from "../src/wire/mtc-message.js";
import { captureLogger } from "./helpers/capture-logger.js";
import { eventually } from "./helpers/client-process.js";
import { freeUdpPorts, Peer } from "./helpers/udp.js";

const HOST = "worker-0";
const HOST_IP = "127.0.0.41";
const BMC = "10.0.0.41";

test("keyed agent: spoofed degrade, uptime, hbs 200.006 and HWMON power-cycle change nothing; signed ones from the host and hbsAgent act; replays are refused", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-auth-agent-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, "cluster.key");
  writeFileSync(keyFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
  const secretFile = join(dir, "bmc-password");
  writeFileSync(secretFile, "fake-password", { mode: 0o600 });
  const [agentMgmt, hbsEvent, hbsCmd] = (await freeUdpPorts(3)) as [number, number, number];
  const config = defaultConfig({
    root: dir,
    networks: { mgmt: { controller: "127.0.0.1" } },
    ports: { agentMgmt, hbsEvent, hbsCmd },
    heartbeat: { agents: [{ hostname: "controller-0", address: "127.0.0.1" }] },
    maintenance: { hwmon: false, tickMs: 20 },
    plugins: { discover: false },
    security: { clusterKeyFile: keyFile },
  });
  const clock = new SystemClock();
  const { logger: log, lines } = captureLogger("warn");
  const fabric = new FakeBmcFabric();
  const machine = fabric.machine(BMC);
  machine.power = "on";
  const container = await createMetalContainer({ config, clock, logger: log, plugins: builtinPlugins(fabric), fakeBmc: fabric });
  const alarms = createAlarmManager(config, clock, log);
  const auth = datagramAuthFor(config, log) as KeyedDatagrams;
  t.true(auth.keyed);
  const messaging = new AgentMessaging({ config, transport: new UdpTransport({ auth }), clock, logger: log, alarms });
  await messaging.start();
  const control = new UdpHeartbeatControl({
    agents: config.heartbeat.agents,
    cmdPort: hbsCmd,
    eventAddress: "127.0.0.1",
    eventPort: hbsEvent,
    hostname: "controller-0",
    clock,
    logger: log,
    auth,
  });
  await control.start();
  const store = new MemoryInventoryStore();
  const rec = newHostRecord({
    hostname: HOST,
    personality: "worker",
    mgmtIp: HOST_IP,
    mgmtMac: "52:54:00:00:00:41",
    administrative: "unlocked",
    bmc: { type: "fake", address: BMC, username: "admin", secretRef: secretFile },
  });
  Object.assign(rec, { operational: "enabled", availability: "available", action: "none" });
  store.records.set(HOST, rec);
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
    controllerUptimeS: 1_000_000,
  });
  await agent.start();
  t.teardown(async () => {
    await agent.stop();
    await control.stop();
    await messaging.stop();
  });

  const attacker = await Peer.bind("127.0.0.77");
  const host = await Peer.bind(HOST_IP);
  const hbs = await Peer.bind("127.0.0.1");
  t.teardown(() => {
    for (const p of [attacker, host, hbs]) p.close();
  });
  const degrade = Buffer.from(JSON.stringify({ hostname: HOST, service: "collectd_notifier", degrade: "set" }));
  const alive = (uptime: number, sequence: number) =>
    encodeMtcMessage(
      mtcAliveMessage({ uptime, health: 1, flags: 0, sequence, payload: { hostname: HOST, personality: "worker", interface: "Mgmnt", sequence } }),
    );
  const pmond = encodeHbsEvent({ kind: "pmondRaise", hostname: HOST, network: "mgmt", from: "controller-0" });
  const pmondClear = encodeHbsEvent({ kind: "pmondClear", hostname: HOST, network: "mgmt", from: "controller-0" });
  const powercycle = encodeMtcMessage(
    mtcMessage({
      signature: Signature.event,
      cmd: MtcEvent.MTC_EVENT_HWMON_POWERCYCLE,
      ver: MTC_CMD_FEATURE_VER__KEYVALUE_IN_BUF,
      buf: JSON.stringify({ hostname: HOST, service: "hwmond", sensor: "PSU1_Vin" }),
    }),
  );
  const view = () => agent.host(HOST);
  const alarm006 = () => alarms.active().some((a) => a.id === "200.006" && a.hostname === HOST);
  const cycled = () => view()?.action === "powercycle" || machine.actions.length > 0;
  const inboxDropped = () => messaging.inbox.stats.dropped;
  const authDropped = () => Object.values(auth.dropped).reduce((a, b) => a + b, 0);

  // 1. Unsigned, from 127.0.0.77 and from the host's own address: every one dropped by the key check.
  for (const p of [attacker, host]) {
    await p.send(degrade, agentMgmt);
    await p.send(alive(4242, 1), agentMgmt);
    await p.send(powercycle, agentMgmt);
    await p.send(pmond, hbsEvent);
  }
  t.true(await eventually(() => auth.dropped.unsigned >= 8, 20_000), `8 unsigned datagrams dropped (${JSON.stringify(auth.dropped)})`);
  // 2. Signed with the key but from 127.0.0.77 (a host holding the key speaking for another): dropped by source.
  const insider = new KeyedDatagrams({ keys: loadClusterKeys(keyFile), logger: silentLogger(), windowMs: 60_000 });
  const before = inboxDropped();
  await attacker.send(insider.seal(degrade), agentMgmt);
  await attacker.send(insider.seal(alive(4242, 2)), agentMgmt);
  await attacker.send(insider.seal(powercycle), agentMgmt);
  await attacker.send(insider.seal(pmond), hbsEvent);
  t.true(await eventually(() => inboxDropped() >= before + 3, 20_000), "3 datagrams dropped by the inbox's source check");
  t.true(
    await eventually(() => lines.some((l) => l.msg === "dropped a heartbeat event from an address that is not an hbsAgent"), 20_000),
    "the heartbeat event from 127.0.0.77 was dropped",
  );
  t.is(view()?.degradeMask, 0, "degrade mask unchanged");
  t.not(view()?.uptime, 4242, "uptime unchanged");
  t.false(alarm006(), "no 200.006");
  t.false(cycled(), "no power-cycle");
  t.true(lines.some((l) => l.msg === "dropped an unauthenticated datagram" && l.from === "127.0.0.77"));

  // 3. The same, signed, from the host and the hbsAgent: obeyed.
  const signer = new KeyedDatagrams({ keys: loadClusterKeys(keyFile), logger: silentLogger(), windowMs: 60_000 });
  const signedAlive = signer.seal(alive(4242, 3));
  await host.send(signer.seal(degrade), agentMgmt);
  await host.send(signedAlive, agentMgmt);
  const signedPmond = signer.seal(pmond);
  await hbs.send(signedPmond, hbsEvent);
  t.true(await eventually(() => (view()?.degradeMask ?? 0) !== 0, 20_000), "a signed degrade from the host sets the mask");
  t.true(await eventually(() => view()?.uptime === 4242, 20_000), "a signed mtcAlive from the host sets the uptime");
  t.true(await eventually(alarm006, 20_000), "a signed pmond event from the hbsAgent raises 200.006");

  // 4. Replays of signed datagrams are refused: a later uptime is not rolled back, a cleared 200.006 stays clear.
  await host.send(signer.seal(alive(5000, 4)), agentMgmt);
  t.true(await eventually(() => view()?.uptime === 5000, 20_000));
  await hbs.send(signer.seal(pmondClear), hbsEvent);
  t.true(await eventually(() => !alarm006(), 20_000), "200.006 cleared");
  const replays = auth.dropped.replay;
  await host.send(signedAlive, agentMgmt);
  await attacker.send(signedAlive, agentMgmt);
  await hbs.send(signedPmond, hbsEvent);
  t.true(await eventually(() => auth.dropped.replay >= replays + 3, 20_000), "3 replays dropped");
  t.is(view()?.uptime, 5000);
  t.false(alarm006());

  // 5. Last, the signed HWMON power-cycle from the host: the agent power-cycles it through its BMC.
  t.false(cycled());
  const dropsBefore = authDropped();
  await host.send(signer.seal(powercycle), agentMgmt);
  t.true(await eventually(cycled, 20_000), "a signed HWMON power-cycle event is acted on");
  t.is(authDropped(), dropsBefore);
});
