import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { LabNodeActions } from "../src/client/lab-node-actions.js";
import { MtcClient } from "../src/client/mtc-client.js";
import { VirtualClock } from "../src/clock/virtual-clock.js";
import { defaultConfig } from "../src/config/index.js";
import { nodePaths } from "../src/config/paths.js";
import { silentLogger } from "../src/logging/logger.js";
import { builtinPersonalities } from "../src/personality/builtin.js";
import { DefaultPersonalityRegistry } from "../src/personality/registry.js";
import { UdpTransport } from "../src/transport/udp-transport.js";
import { MtcCmd } from "../src/wire/mtc-codes.js";
import { decodeMtcMessage, encodeMtcMessage, mtcMessage, Signature } from "../src/wire/mtc-message.js";
import { freeUdpPorts, Peer } from "./helpers/udp.js";

async function clientWithPeerAgent(t: import("ava").ExecutionContext, hostIp: string) {
  const root = mkdtempSync(join(tmpdir(), "metal-echo-"));
  const paths = nodePaths(root);
  mkdirSync(join(root, "etc/platform"), { recursive: true });
  mkdirSync(paths.varRun, { recursive: true });
  writeFileSync(paths.initialConfigComplete, "");
  writeFileSync(paths.goenabledMainReady, "");
  const [agentMgmt, clientMgmt] = (await freeUdpPorts(2)) as [number, number];
  const config = defaultConfig({
    root,
    node: { hostname: "worker-1", subfunctions: ["worker"], mac: "52:54:00:00:01:77" },
    networks: { mgmt: { address: hostIp, controller: "127.0.0.1" } },
    ports: { agentMgmt, clientMgmt },
    messaging: { firstMtcAliveMs: 60_000, mtcAlivePeriodMs: 60_000, readyEventPeriodMs: 600_000 },
  });
  const agent = await Peer.bind("127.0.0.1", agentMgmt);
  const clock = new VirtualClock();
  const client = new MtcClient({
    config,
    transport: new UdpTransport(),
    clock,
    logger: silentLogger(),
    actions: new LabNodeActions(paths, clock, silentLogger(), () => {}),
    personalities: new DefaultPersonalityRegistry(builtinPersonalities(config.timeouts)),
  });
  t.teardown(async () => {
    await client.stop();
    agent.close();
    rmSync(root, { recursive: true, force: true });
  });
  const passes = () =>
    agent.received.filter((d) => {
      const m = decodeMtcMessage(d.data);
      return m.ok && m.msg.signature === Signature.workerMsg && m.msg.cmd === MtcCmd.MTC_MSG_MAIN_GOENABLED;
    });
  /** Step virtual time until `pred` holds (each step also lets real I/O land), at most `limitMs` of virtual time. */
  const stepUntil = async (pred: () => boolean, limitMs: number) => {
    for (let spent = 0; spent <= limitMs && !pred(); spent += 100) {
      await clock.advance(100);
      await new Promise((r) => setTimeout(r, 5));
    }
    // Real I/O may trail the virtual clock on a loaded machine: give it a bounded real-time grace.
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
    return pred();
  };
  return { client, agent, passes, stepUntil, clientMgmt };
}

test("a goenabled pass is re-sent (bounded) until the agent echoes it", async (t) => {
  const { client, passes, stepUntil } = await clientWithPeerAgent(t, "127.0.1.77");
  await client.start(); // no pass file: the main tests run at start (no scripts: a pass)
  t.true(await stepUntil(() => passes().length >= 1, 1000));
  t.true(await stepUntil(() => passes().length >= 6, 30_000));
  t.true(await stepUntil(() => client.awaitingEcho().length === 0, 5_000), "gave up after the re-sends");
  await stepUntil(() => false, 10_000);
  t.is(passes().length, 6, "the first send and 5 re-sends, no more");
});

test("the agent's echo stops the re-sends", async (t) => {
  const { client, agent, passes, stepUntil, clientMgmt } = await clientWithPeerAgent(t, "127.0.1.78");
  await client.start();
  t.true(await stepUntil(() => passes().length >= 1, 1000));
  t.deepEqual(client.awaitingEcho(), [MtcCmd.MTC_MSG_MAIN_GOENABLED]);
  const first = passes()[0];
  const d = first ? decodeMtcMessage(first.data) : undefined;
  if (!d?.ok) return t.fail("no goenabled pass to echo");
  // The echo lands before any virtual time passes, so no re-send is due yet.
  await agent.send(encodeMtcMessage(mtcMessage({ ...d.msg, signature: Signature.repMsg })), clientMgmt, "127.0.1.78");
  for (let i = 0; i < 400 && client.awaitingEcho().length > 0; i++) await new Promise((r) => setTimeout(r, 25));
  t.deepEqual(client.awaitingEcho(), []);
  await stepUntil(() => false, 30_000);
  t.is(passes().length, 1);
});
