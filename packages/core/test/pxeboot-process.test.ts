import test from "ava";
import { PXEBOOT_ALARM_ID } from "../src/agent/messaging-pxeboot-monitor.js";
import type { Datagram, Endpoint, NetworkName, Transport } from "../src/transport/transport.js";
import { UdpTransport } from "../src/transport/udp-transport.js";
import { eventually, startPair } from "./helpers/client-process.js";

/** The agent's real UDP transport with a switch that cuts one network both ways, as a pulled cable would. */
class CuttableTransport implements Transport {
  readonly cut = new Set<NetworkName>();
  private readonly inner = new UdpTransport();
  async bind(network: NetworkName, address: string, port: number, onBatch: (b: readonly Datagram[]) => void): Promise<Endpoint> {
    const ep = await this.inner.bind(network, address, port, (b) => {
      if (!this.cut.has(network)) onBatch(b);
    });
    return {
      network,
      address: ep.address,
      port: ep.port,
      send: (data, a, p) => (this.cut.has(network) ? Promise.resolve() : ep.send(data, a, p)),
      close: () => ep.close(),
    };
  }
  close() {
    return this.inner.close();
  }
}

test("cutting a real client's pxeboot network raises 200.003 minor; restoring it clears the alarm", async (t) => {
  const transport = new CuttableTransport();
  const p = await startPair(t, {
    hostIp: "127.0.1.66",
    transport,
    agentMessaging: { pxebootMonitorPeriodMs: 300 },
    client: (c) => ({ ...c, messaging: { ...c.messaging, mtcAlivePeriodMs: 100 } }),
  });
  await p.waitFor((m) => m.kind === "mtcAlive" && m.network === "pxeboot");
  p.agent.watchPxeboot("worker-1", true);
  await new Promise((r) => setTimeout(r, 1500));
  t.deepEqual(p.alarms.active(), [], "no alarm while pxeboot mtcAlives flow");

  transport.cut.add("pxeboot");
  await p.waitFor((m) => m.kind === "pxebootLoss", 15_000);
  t.true(await eventually(() => p.alarms.active().some((a) => a.id === PXEBOOT_ALARM_ID), 15_000), "200.003 raised after two losses");
  t.like(
    p.alarms.active().find((a) => a.id === PXEBOOT_ALARM_ID),
    { hostname: "worker-1", severity: "minor" },
  );
  const recent = p.messages.slice(-10);
  t.true(
    recent.some((m) => m.kind === "mtcAlive" && m.network === "mgmt"),
    "mgmt keeps flowing: only pxeboot was cut",
  );

  transport.cut.delete("pxeboot");
  await p.waitFor((m) => m.kind === "pxebootRecovered", 15_000);
  t.true(await eventually(() => p.alarms.active().length === 0, 5000), "200.003 cleared on recovery");
  t.deepEqual(
    p.alarms.history.map((h) => `${h.op} ${h.id}`),
    [`raise ${PXEBOOT_ALARM_ID}`, `clear ${PXEBOOT_ALARM_ID}`],
  );
});
