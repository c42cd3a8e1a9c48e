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
  const settle = async (ms: number) => {
    for (let i = 0; i < ms / 500; i++) {
      await clock.advance(500);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { client, agent, passes, settle, clientMgmt };
}

test("a goenabled pass is re-sent (bounded) until the agent echoes it", async (t) => {
  const { client, passes, settle } = await clientWithPeerAgent(t, "127.0.1.77");
  await client.start(); // no pass file: the main tests run at start (no scripts: a pass)
  await settle(1000);
  t.is(passes().length, 1);
  await settle(30_000);
  t.is(passes().length, 6, "the first send and 5 re-sends, then it gives up");
});

test("the agent's echo stops the re-sends", async (t) => {
  const { client, agent, passes, settle, clientMgmt } = await clientWithPeerAgent(t, "127.0.1.78");
  await client.start();
  await settle(1000);
  t.is(passes().length, 1);
  const first = passes()[0];
  const d = first ? decodeMtcMessage(first.data) : undefined;
  if (!d?.ok) return t.fail("no goenabled pass to echo");
  await agent.send(encodeMtcMessage(mtcMessage({ ...d.msg, signature: Signature.repMsg })), clientMgmt, "127.0.1.78");
  await settle(30_000);
  t.is(passes().length, 1);
});
