/**
 * Issue 14 item 8: the hbsAgent sends its heartbeat alarms as UDP JSON to mtcalarmd's port (2122, reference §7). A
 * standalone `metal agent` process must receive them there: what the hbsAgent daemon's relay raises shows in the
 * agent's alarm list, a clear clears it, and a bad datagram is dropped without harm.
 */
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { execa } from "execa";
import fc from "fast-check";
import { parseMtcalarm } from "../src/alarms/mtcalarm-receiver.js";
import { SystemClock } from "../src/clock/system-clock.js";
import { MtcalarmRelay } from "../src/heartbeat/mtcalarm-relay.js";
import { PLAIN_DATAGRAMS } from "../src/transport/datagram-auth.js";
import { freeUdpPorts } from "../src/transport/free-ports.js";
import { UdpSocket } from "../src/transport/udp-socket.js";

const main = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");

async function alarms(url: string): Promise<Array<{ id: string; hostname: string; severity: string; entity?: string }> | undefined> {
  try {
    const r = await fetch(`${url}/v1/alarms`, { signal: AbortSignal.timeout(1000) });
    if (!r.ok) return undefined;
    const body = (await r.json()) as { alarms?: Array<{ id: string; hostname: string; severity: string; entity?: string }> };
    return body.alarms;
  } catch {
    return undefined;
  }
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, limitMs: number): Promise<T> {
  const end = Date.now() + limitMs;
  let v = await what();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    v = await what();
  }
  return v;
}

test("a standalone metal agent receives the hbsAgent's heartbeat alarms on the mtcalarm port", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-agent-mtcalarm-"));
  const [agentMgmt, agentPxeboot, hbsCmd, hbsEvent, api, mtcalarm] = (await freeUdpPorts(6)) as [number, number, number, number, number, number];
  const config = {
    root: join(dir, "root"),
    node: { hostname: "controller-0", subfunctions: ["controller"] },
    networks: { mgmt: { address: "127.0.0.1", controller: "127.0.0.1" } },
    ports: { agentMgmt, agentPxeboot, hbsCmd, hbsEvent, mtcalarm },
    api: { address: "127.0.0.1", port: api },
    heartbeat: { agents: [{ hostname: "controller-0", address: "127.0.0.1" }] },
    plugins: { discover: false },
    logging: { level: "warn" },
  };
  const cfgFile = join(dir, "agent.json");
  writeFileSync(cfgFile, JSON.stringify(config));
  const agent = execa(process.execPath, [main, "agent", "--config", cfgFile], { reject: false });
  const sock = await UdpSocket.bind({ address: "127.0.0.1", port: 0, auth: PLAIN_DATAGRAMS, label: "test hbsAgent", onMessage: () => {} });
  t.teardown(async () => {
    await sock.close();
    agent.kill("SIGTERM");
    await agent;
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${api}`;
  t.truthy(
    await until(
      () => alarms(url),
      (a) => a !== undefined,
      30_000,
    ),
    "the agent's API is up",
  );
  // The hbsAgent daemon's own relay (heartbeat/daemon.ts) sends what its miss counting raises.
  const relay = new MtcalarmRelay(new SystemClock(), { sock, address: "127.0.0.1", port: mtcalarm, onError: (err) => t.log(err.message) });
  const junk = createSocket("udp4");
  junk.send(Buffer.from('{"mtcalarm":[{"alarmid":"999.999"}]}'), mtcalarm, "127.0.0.1", () => junk.close());
  relay.raise({ id: "200.005", hostname: "worker-3", severity: "major", entity: "Management", text: "heartbeat degrade" });
  relay.raise({ id: "200.009", hostname: "worker-3", severity: "critical", entity: "Cluster-host", text: "heartbeat loss" });
  const raised = await until(
    () => alarms(url),
    (a) => (a ?? []).filter((x) => x.hostname === "worker-3").length === 2,
    15_000,
  );
  t.deepEqual(
    (raised ?? [])
      .filter((x) => x.hostname === "worker-3")
      .map((x) => [x.id, x.severity, x.entity])
      .sort(),
    [
      ["200.005", "major", "Management"],
      ["200.009", "critical", "Cluster-host"],
    ],
  );
  relay.clear("200.005", "worker-3", "Management");
  const cleared = await until(
    () => alarms(url),
    (a) => !(a ?? []).some((x) => x.id === "200.005"),
    15_000,
  );
  t.false(
    (cleared ?? []).some((x) => x.id === "200.005"),
    "the clear reached the agent",
  );
  t.true((cleared ?? []).some((x) => x.id === "200.009"));
  t.is(agent.exitCode, null, "the agent is still running after the bad datagram");
});

test("parseMtcalarm: the relay's own requests parse back; random and hostile input is refused with a reason, never thrown", (t) => {
  const good = Buffer.from(
    JSON.stringify({
      mtcalarm: [{ alarmid: "200.009", hostname: "compute-3", operation: "set", severity: "critical", entity: "Cluster-host", prefix: "service=heartbeat" }],
    }),
  );
  t.like(parseMtcalarm(good), {
    ok: true,
    requests: [{ alarmid: "200.009", hostname: "compute-3", operation: "set", severity: "critical", entity: "Cluster-host" }],
  });
  t.like(parseMtcalarm(Buffer.from('{"mtcalarm":[{"alarmid":"200.001","hostname":"x","operation":"set","severity":"critical"}]}')), { ok: false });
  const random = fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
    const r = parseMtcalarm(Buffer.from(bytes));
    return r.ok ? r.requests.length > 0 : r.reason.length > 0;
  });
  const shaped = fc.property(fc.jsonValue(), (v) => {
    const r = parseMtcalarm(Buffer.from(JSON.stringify({ mtcalarm: [v] })));
    return r.ok || r.reason.length > 0;
  });
  t.notThrows(() => fc.assert(random, { numRuns: 2000 }));
  t.notThrows(() => fc.assert(shaped, { numRuns: 2000 }));
});
