import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { AgentMessaging } from "../src/agent/messaging.js";
import { parseDnsmasqHosts, parseDnsmasqLeases } from "../src/agent/messaging-pxeboot-addresses.js";
import { SystemClock } from "../src/clock/system-clock.js";
import { defaultConfig } from "../src/config/index.js";
import { silentLogger } from "../src/logging/logger.js";
import { interfaceAddress } from "../src/transport/mtc-ports.js";
import { UdpTransport } from "../src/transport/udp-transport.js";
import { MtcCmd } from "../src/wire/mtc-codes.js";
import { decodeMtcMessage } from "../src/wire/mtc-message.js";
import { MemoryAlarms } from "./helpers/memory-alarms.js";
import { freeUdpPorts, Peer } from "./helpers/udp.js";

test("dnsmasq leases and host entries parse; junk lines are skipped", (t) => {
  const leases = [
    "1763730000 52:54:00:aa:bb:01 192.168.202.11 worker-1 01:52:54:00:aa:bb:01",
    "1763730000 52:54:00:AA:BB:02 192.168.202.12 * *",
    "garbage line",
    "1763730000 52:54:00:aa:bb:03 not-an-ip worker-3 *",
  ].join("\n");
  t.deepEqual(parseDnsmasqLeases(leases), [
    { ip: "192.168.202.11", mac: "52:54:00:aa:bb:01", hostname: "worker-1", source: "lease" },
    { ip: "192.168.202.12", mac: "52:54:00:aa:bb:02", source: "lease" },
  ]);
  const hosts = [
    "# generated",
    "dhcp-host=52:54:00:aa:bb:04,set:metal-host,192.168.202.14,worker-4",
    "52:54:00:aa:bb:05,worker-5,192.168.202.15,infinite",
    "enable-tftp",
    "dhcp-host=52:54:00:aa:bb:06,set:metal-host,worker-6",
  ].join("\n");
  t.deepEqual(parseDnsmasqHosts(hosts), [
    { ip: "192.168.202.14", mac: "52:54:00:aa:bb:04", hostname: "worker-4", source: "hosts" },
    { ip: "192.168.202.15", mac: "52:54:00:aa:bb:05", hostname: "worker-5", source: "hosts" },
  ]);
});

test("the agent learns a host's pxeboot address from the dnsmasq leases and sends pxeboot commands there", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-leases-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const leases = join(dir, "dnsmasq.leases");
  writeFileSync(leases, "1763730000 52:54:00:aa:bb:71 127.0.1.71 worker-7 *\n");
  const hostsFile = join(dir, "dnsmasq.conf");
  writeFileSync(hostsFile, "dhcp-host=52:54:00:aa:bb:72,set:metal-host,127.0.1.72,worker-8\n");
  const [agentMgmt, agentPxeboot, clientPxeboot] = (await freeUdpPorts(3)) as [number, number, number];
  const config = defaultConfig({
    // The pxeboot socket binds to the address of the configured interface (the interface config).
    networks: { mgmt: { controller: "127.0.0.1" }, pxeboot: { interface: "lo" } },
    ports: { agentMgmt, agentPxeboot, clientPxeboot },
    messaging: { dnsmasqLeases: leases, dnsmasqHosts: [hostsFile] },
  });
  t.is(interfaceAddress("lo"), "127.0.0.1");
  const messaging = new AgentMessaging({ config, transport: new UdpTransport(), clock: new SystemClock(), logger: silentLogger(), alarms: new MemoryAlarms() });
  messaging.setHost({ hostname: "worker-7", mgmtIp: "127.0.1.70", mgmtMac: "52:54:00:aa:bb:71" });
  messaging.setHost({ hostname: "worker-8", mgmtIp: "127.0.1.80", mgmtMac: "52:54:00:aa:bb:72" });
  messaging.setHost({ hostname: "worker-9", mgmtIp: "127.0.1.90" });
  await messaging.start();
  t.teardown(() => messaging.stop());
  t.is(messaging.inbox.endpoint("pxeboot")?.address, "127.0.0.1");
  t.is(messaging.host("worker-7")?.pxebootIp, "127.0.1.71");
  t.is(messaging.host("worker-8")?.pxebootIp, "127.0.1.72");
  t.is(messaging.host("worker-9")?.pxebootIp, undefined);
  const peer = await Peer.bind("127.0.1.71", clientPxeboot);
  t.teardown(() => peer.close());
  await messaging.command("worker-7", "reqMtcAlive", { network: "pxeboot" });
  const got = await peer.waitFor(() => true);
  const d = decodeMtcMessage(got.data);
  t.true(d.ok && d.msg.cmd === MtcCmd.MTC_REQ_MTCALIVE);
  if (d.ok) t.deepEqual(JSON.parse(d.msg.buf).pxebootInfo, { controller: "127.0.0.1", "controller-0": "127.0.0.1" });
});
