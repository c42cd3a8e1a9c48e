/**
 * Original-daemon interop of the mtcClient's own messages (issue 14 item 9): an mtcAlive leaves `ver` 0 as the
 * original's create_mtcAlive_msg does (only agent commands carry MTC_CMD_VERSION 1), and the LOCKED ACK echoes the
 * command's parm[0] (LOCK_PERSIST) where other ACKs put their rc. Checked on the raw datagrams a real client process
 * sends to a real agent messaging stack over loopback.
 */
import test from "ava";
import type { Datagram, Endpoint, NetworkName, Transport } from "../src/transport/transport.js";
import { UdpTransport } from "../src/transport/udp-transport.js";
import { MtcCmd } from "../src/wire/mtc-codes.js";
import { decodeMtcMessage, type MtcMessage, Signature } from "../src/wire/mtc-message.js";
import { eventually, startPair } from "./helpers/client-process.js";

/** The agent's transport, keeping a decoded copy of every datagram it receives. */
class Recording implements Transport {
  readonly seen: MtcMessage[] = [];
  private readonly inner = new UdpTransport();
  bind(network: NetworkName, address: string, port: number, onBatch: (batch: readonly Datagram[]) => void): Promise<Endpoint> {
    return this.inner.bind(network, address, port, (batch) => {
      for (const d of batch) {
        const m = decodeMtcMessage(d.data);
        if (m.ok) this.seen.push(m.msg);
      }
      onBatch(batch);
    });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

test("mtcAlive carries ver 0 and the LOCKED ACK echoes parm[0]=1 (LOCK_PERSIST), as the original mtcClient does", async (t) => {
  const rec = new Recording();
  const p = await startPair(t, { hostIp: "127.0.1.71", transport: rec });
  t.true(await eventually(() => rec.seen.some((m) => m.cmd === MtcCmd.MTC_MSG_MTCALIVE), 20_000), "an mtcAlive arrived");
  const alive = rec.seen.find((m) => m.cmd === MtcCmd.MTC_MSG_MTCALIVE) as MtcMessage;
  t.is(alive.signature, Signature.workerMsg);
  t.is(alive.ver, 0, "mtcAlive ver");
  t.is(alive.num, 4);

  await p.agent.command("worker-1", "locked", { parms: [1] });
  const ack = rec.seen.find((m) => m.cmd === MtcCmd.MTC_MSG_LOCKED && m.signature === Signature.cmdRsp) as MtcMessage;
  t.truthy(ack, "the LOCKED ACK arrived");
  t.is(ack.parm[0], 1, "the LOCKED ACK echoes LOCK_PERSIST");
  // Other ACKs still carry their rc in parm[0].
  t.is(await p.agent.command("worker-1", "loopback"), 0);
});
