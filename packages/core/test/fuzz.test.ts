import { randomBytes, randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import test from "ava";
import { mtcAliveMessage } from "../src/wire/mtc-alive.js";
import { MtcCmd, MtcEvent } from "../src/wire/mtc-codes.js";
import { encodeMtcMessage, mtcMessage, Signature } from "../src/wire/mtc-message.js";
import { eventually, startPair } from "./helpers/client-process.js";

const DATAGRAMS = 100_000;
/** The whole barrage must be sent within this long (it is paced, so the kernel queues stay short). */
const SEND_BUDGET_MS = 120_000;

/** Valid messages of every class, for mutation: the fuzz then reaches past the signature checks. */
function templates(): Buffer[] {
  const alive = mtcAliveMessage({
    uptime: 5,
    health: 1,
    flags: 0,
    sequence: 1,
    payload: { hostname: "worker-1", personality: "worker", interface: "Mgmnt", sequence: 1 },
  });
  return [
    encodeMtcMessage(alive),
    encodeMtcMessage({ ...alive, payload: undefined } as never),
    encodeMtcMessage(mtcMessage({ signature: Signature.cmdReq, cmd: MtcCmd.MTC_CMD_REBOOT, mac: "52:54:00:00:00:00", buf: '{"interface":"Mgmnt"}' })),
    encodeMtcMessage(mtcMessage({ signature: Signature.cmdReq, cmd: MtcCmd.MTC_MSG_LOCKED, ver: 0, num: 1, parm: [1, 0, 0, 0, 0] })),
    encodeMtcMessage(mtcMessage({ signature: Signature.cmdRsp, cmd: MtcCmd.MTC_CMD_LOOPBACK })),
    encodeMtcMessage(mtcMessage({ signature: Signature.workerMsg, cmd: MtcCmd.MTC_MSG_MAIN_GOENABLED_FAILED, buf: "x.sh (rc:1)" })),
    encodeMtcMessage(
      mtcMessage({ signature: Signature.event, cmd: MtcEvent.MTC_EVENT_MONITOR_READY, ver: 2, buf: '{"hostname":"worker-1","service":"mtcClient"}' }),
    ),
    Buffer.from('{"service":"collectd_notifier","hostname":"worker-1","degrade":"set"}'),
  ];
}

function mutate(t: Buffer): Buffer {
  const b = Buffer.from(t);
  const kind = randomInt(4);
  if (kind === 0) return b.subarray(0, randomInt(b.length + 1)); // truncated
  if (kind === 1) return Buffer.concat([b, randomBytes(randomInt(1200))]); // padded, often oversized
  const flips = 1 + randomInt(8);
  for (let i = 0; i < flips; i++) b[randomInt(b.length)] = randomInt(256);
  return b;
}

test("100k random and mutated datagrams at a live agent and a live client: both stay up and keep serving a real host", async (t) => {
  t.timeout(240_000);
  const p = await startPair(t, { hostIp: "127.0.1.67", client: (c) => ({ ...c, messaging: { ...c.messaging, mtcAlivePeriodMs: 200 } }) });
  await p.waitFor((m) => m.kind === "mtcAlive" && m.network === "mgmt");
  t.is(await p.agent.command("worker-1", "loopback"), 0);

  const fuzzer = createSocket("udp4");
  await new Promise<void>((r) => fuzzer.bind(0, "127.0.1.68", r));
  t.teardown(() => fuzzer.close());
  const targets: Array<[number, string]> = [
    [p.ports.agentMgmt, "127.0.0.1"],
    [p.ports.agentClstr, "127.0.0.1"],
    [p.ports.agentPxeboot, "127.0.0.1"],
    [p.ports.clientMgmt, p.hostIp],
    [p.ports.clientClstr, p.hostIp],
    [p.ports.clientPxeboot, p.hostIp],
  ];
  const tpl = templates();
  const started = Date.now();
  let sent = 0;
  for (; sent < DATAGRAMS && Date.now() - started < SEND_BUDGET_MS; sent++) {
    const data = randomInt(2) === 0 ? randomBytes(randomInt(1300)) : mutate(tpl[randomInt(tpl.length)] as Buffer);
    const [port, address] = targets[sent % targets.length] as [number, string];
    await new Promise<void>((resolve) => fuzzer.send(data, port, address, () => resolve()));
    // Pace: give both receivers a turn now and then, as a real network would.
    if (sent % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  t.log(`sent ${sent} datagrams in ${Date.now() - started} ms; agent inbox stats ${JSON.stringify(p.agent.inbox.stats)}`);
  t.is(sent, DATAGRAMS, "the whole barrage went out within the time bound");

  // Both stay up...
  t.is(p.client.exitCode, null, `client still running; stderr tail:\n${p.clientLog().slice(-2000)}`);
  t.true(p.agent.inbox.stats.dropped > 0, "the agent saw (and dropped) the fuzz");
  // ...and keep serving the real host: fresh mtcAlives on every network, commands ACKed.
  const mark = p.messages.length;
  for (const network of ["mgmt", "clusterHost", "pxeboot"] as const) {
    await p.waitFor((m) => m.kind === "mtcAlive" && m.network === network && p.messages.indexOf(m) >= mark);
  }
  t.is(await p.agent.command("worker-1", "loopback"), 0);
  t.is(await p.agent.command("worker-1", "locked", { parms: [1] }), 1, "the LOCKED ACK echoes LOCK_PERSIST");
  t.true(await eventually(() => p.messages.slice(mark).some((m) => m.kind === "mtcAlive" && (m.flags & 0x8) !== 0), 15_000));
  // Bad input was logged, rate-limited (one line per kind of drop and sender per 10 s): far fewer lines than datagrams.
  const dropLines = p.agentLog.filter((l) => l.msg === "mtcAgent inbox dropped a datagram").length;
  t.true(dropLines > 0 && dropLines < sent / 100, `agent drop lines: ${dropLines}`);
  const clientDropLines = p
    .clientLog()
    .split("\n")
    .filter((l) => l.includes("mtcClient dropped a datagram")).length;
  t.true(clientDropLines > 0 && clientDropLines < sent / 100, `client drop lines: ${clientDropLines}`);
  t.is(p.client.exitCode, null);
});
