/**
 * Pulse requests of an original dual-controller hbsAgent (issue 14 item 4): it sends `sizeof(hbs_message_type) -
 * unused` bytes, the unused part computed from its whole vault (the peer's histories included), while the vault header
 * counts only its own histories. So a 188-byte vault (2 histories) arrives in a 339- or 427-byte datagram. A real
 * hbsClient on loopback must answer them, echoing the sequence, and still refuse a vault that does not fit.
 */
import { createSocket } from "node:dgram";
import test from "ava";
import { SystemClock } from "../src/clock/system-clock.js";
import { defaultConfig } from "../src/config/index.js";
import { HbsClient } from "../src/heartbeat/hbs-client.js";
import { silentLogger } from "../src/logging/logger.js";
import { freeUdpPorts } from "../src/transport/free-ports.js";
import { emptyHistory, emptyVault } from "../src/wire/cluster-vault.js";
import { decodePulse, encodePulse, HBS_FIELDS_END, HBS_PULSE_MAX, withController } from "../src/wire/hbs-pulse.js";

/** A request as the original controller-0 sends it: its own two histories, padded to `total` bytes. */
function originalRequest(seq: number, total: number): Buffer {
  const vault = { ...emptyVault(100), histories: [emptyHistory(0, 0), emptyHistory(0, 1)] };
  const body = encodePulse({ kind: "req", host: "worker-9", seq, rri: 3, flags: withController(0, 0), version: 1, cluster: vault });
  const out = Buffer.alloc(total);
  body.copy(out);
  return out;
}

test("hbsClient answers an original dual-controller hbsAgent's 339- and 427-byte pulse requests carrying a 188-byte vault", async (t) => {
  const [hbsClientMgmt, hbsAgentMgmt] = (await freeUdpPorts(2)) as [number, number];
  const address = "127.0.1.91";
  const config = defaultConfig({
    node: { hostname: "worker-9", subfunctions: ["worker"] },
    networks: { mgmt: { address } },
    ports: { hbsClientMgmt, hbsAgentMgmt },
    heartbeat: { mode: "unicast", clientPmondFlag: "always" },
  });
  const client = new HbsClient({ config, clock: new SystemClock(), logger: silentLogger() });
  await client.start();
  const agent = createSocket("udp4");
  t.teardown(async () => {
    agent.close();
    await client.stop();
  });
  const answers: Buffer[] = [];
  agent.on("message", (m) => answers.push(m));
  await new Promise<void>((r) => agent.bind(hbsAgentMgmt, "127.0.0.1", () => r()));
  const ask = async (data: Buffer) => {
    const before = answers.length;
    agent.send(data, hbsClientMgmt, address);
    const until = Date.now() + 5_000;
    while (answers.length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return answers.length > before ? answers[answers.length - 1] : undefined;
  };

  t.is(HBS_FIELDS_END + 188, 251);
  for (const [seq, total] of [
    [7, 339],
    [8, HBS_PULSE_MAX],
    [9, 251],
  ] as const) {
    const rsp = await ask(originalRequest(seq, total));
    t.truthy(rsp, `a ${total}-byte request is answered`);
    const d = decodePulse(rsp as Buffer);
    t.true(d.ok && d.pulse.kind === "rsp" && d.pulse.seq === seq, `the answer echoes sequence ${seq}`);
  }
  // A datagram too short for the vault its header announces is still refused.
  const short = originalRequest(10, 339).subarray(0, HBS_FIELDS_END + 100);
  t.is(await ask(short), undefined, "a truncated vault is not answered");
  t.is(client.stats.dropped, 1);
});
