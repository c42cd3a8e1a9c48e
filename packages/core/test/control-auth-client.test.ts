/**
 * Issue 11, "anyone on the management network controls every host", against a real `metal client` process on
 * loopback: spoofed and replayed datagrams from another 127.0.0.x address are not obeyed (lock, unlock, reboot);
 * the same commands from the controller with the cluster key are. Unkeyed, the client still obeys only its
 * controller's address.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { LAB_REBOOT_EXIT_CODE } from "../src/client/lab-node-actions.js";
import { silentLogger } from "../src/logging/logger.js";
import { loadClusterKeys } from "../src/transport/cluster-key.js";
import { KeyedDatagrams } from "../src/transport/datagram-auth.js";
import { MtcCmd } from "../src/wire/mtc-codes.js";
import { encodeMtcMessage, mtcMessage, Signature } from "../src/wire/mtc-message.js";
import { eventually, type RealPair, startPair } from "./helpers/client-process.js";
import { Peer } from "./helpers/udp.js";

function keyFile(t: ExecutionContext, ...keys: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "metal-auth-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, "cluster.key");
  writeFileSync(p, `${keys.join("\n")}\n`, { mode: 0o600 });
  return p;
}

/** A command as the agent builds it: cmd request, the host's MAC at hdr[17]. */
function command(pair: RealPair, cmd: number, parm: number[] = []): Buffer {
  const p: [number, number, number, number, number] = [0, 0, 0, 0, 0];
  parm.forEach((v, i) => {
    p[i] = v;
  });
  return encodeMtcMessage(mtcMessage({ signature: Signature.cmdReq, cmd, num: parm.length, parm: p, mac: pair.mac, buf: "{}" }));
}

/** Wait (bounded) for a drop line in the client's log naming this source and reason. */
async function dropped(t: ExecutionContext, pair: RealPair, from: string, text: RegExp): Promise<void> {
  const seen = () =>
    pair
      .clientLog()
      .split("\n")
      .some((l) => l.includes(`"${from}`) && (l.includes("dropped an unauthenticated datagram") || l.includes("mtcClient dropped a datagram")) && text.test(l));
  t.true(await eventually(seen, 20_000), `client logged a drop of ${text} from ${from}\n${pair.clientLog().slice(-3000)}`);
}

test("keyed client: spoofed, mis-signed and replayed lock/unlock/reboot from 127.0.0.77 or replayed from the controller are not obeyed; the controller's signed ones are", async (t) => {
  const k = randomBytes(32).toString("hex");
  const file = keyFile(t, k);
  const pair = await startPair(t, { hostIp: "127.0.0.31", clusterKeyFile: file });
  await pair.waitFor((m) => m.kind === "mtcAlive");
  const port = pair.ports.clientMgmt;
  const controller = new KeyedDatagrams({ keys: loadClusterKeys(file), logger: silentLogger(), windowMs: 60_000 });
  const stranger = new KeyedDatagrams({ keys: loadClusterKeys(keyFile(t, randomBytes(32).toString("hex"))), logger: silentLogger(), windowMs: 60_000 });
  const fromController = await Peer.bind("127.0.0.1");
  const attacker = await Peer.bind("127.0.0.77");
  t.teardown(() => {
    fromController.close();
    attacker.close();
  });
  const locked = () => existsSync(pair.paths.nodeLocked);

  // The controller, with the key: lock is obeyed, then unlock.
  const lock = controller.seal(command(pair, MtcCmd.MTC_MSG_LOCKED, [1]));
  await fromController.send(lock, port, pair.hostIp);
  t.true(await eventually(locked, 20_000), "a signed lock from the controller is obeyed");
  await fromController.send(controller.seal(command(pair, MtcCmd.MTC_MSG_UNLOCKED)), port, pair.hostIp);
  t.true(await eventually(() => !locked(), 20_000), "a signed unlock from the controller is obeyed");

  // Replays of the controller's own lock: from the controller's address and from another one.
  await fromController.send(lock, port, pair.hostIp);
  await dropped(t, pair, "127.0.0.1", /replay/);
  await attacker.send(lock, port, pair.hostIp);
  await dropped(t, pair, "127.0.0.77", /replay/);
  // Unsigned (the original wire format), signed with another key, and signed with the key but from a non-controller.
  await attacker.send(command(pair, MtcCmd.MTC_MSG_LOCKED, [1]), port, pair.hostIp);
  await dropped(t, pair, "127.0.0.77", /unsigned/);
  await attacker.send(stranger.seal(command(pair, MtcCmd.MTC_MSG_LOCKED, [1])), port, pair.hostIp);
  await dropped(t, pair, "127.0.0.77", /unknown-key/);
  await attacker.send(controller.seal(command(pair, MtcCmd.MTC_MSG_LOCKED, [1])), port, pair.hostIp);
  await dropped(t, pair, "127.0.0.77", /not from a controller/);
  t.false(locked(), "no spoofed or replayed lock was obeyed");

  // A spoofed reboot leaves the client running; the controller's signed reboot takes the node down.
  await attacker.send(command(pair, MtcCmd.MTC_CMD_REBOOT), pair.ports.clientClstr, pair.hostIp);
  await dropped(t, pair, "127.0.0.77", /unsigned/);
  t.is(pair.client.exitCode, null, "a spoofed reboot is not obeyed");
  const exited = new Promise<number | null>((resolve) => pair.client.once("exit", (code) => resolve(code)));
  await fromController.send(controller.seal(command(pair, MtcCmd.MTC_CMD_REBOOT)), port, pair.hostIp);
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), 30_000))]);
  t.is(code, LAB_REBOOT_EXIT_CODE, "the controller's signed reboot is obeyed");
});

test("unkeyed client: a lock from another loopback address carrying the host's MAC is not obeyed; the controller's is", async (t) => {
  const pair = await startPair(t, { hostIp: "127.0.0.32" });
  await pair.waitFor((m) => m.kind === "mtcAlive");
  const attacker = await Peer.bind("127.0.0.77");
  const fromController = await Peer.bind("127.0.0.1");
  t.teardown(() => {
    attacker.close();
    fromController.close();
  });
  await attacker.send(command(pair, MtcCmd.MTC_MSG_LOCKED, [1]), pair.ports.clientMgmt, pair.hostIp);
  await dropped(t, pair, "127.0.0.77", /not from a controller/);
  t.false(existsSync(pair.paths.nodeLocked));
  await fromController.send(command(pair, MtcCmd.MTC_MSG_LOCKED, [1]), pair.ports.clientMgmt, pair.hostIp);
  t.true(await eventually(() => existsSync(pair.paths.nodeLocked), 20_000), "the controller's unsigned lock is obeyed (wire-compatible mode)");
  t.true(/control traffic is unauthenticated/.test(pair.clientLog()), "the client said once that control traffic is unauthenticated");
});

test("key rotation: an agent signing with the old key and a client signing with the new one, each holding both, keep talking", async (t) => {
  const oldKey = randomBytes(32).toString("hex");
  const newKey = randomBytes(32).toString("hex");
  const pair = await startPair(t, { hostIp: "127.0.0.33", clusterKeyFile: keyFile(t, oldKey, newKey), clientKeyFile: keyFile(t, newKey, oldKey) });
  await pair.waitFor((m) => m.kind === "mtcAlive");
  pair.agent.setHost({ hostname: pair.hostname, mgmtIp: pair.hostIp, mgmtMac: pair.mac });
  t.is(
    await pair.agent.command(pair.hostname, "locked", { parms: [1] }),
    1,
    "the client took the old key's lock and its ACK (echoing LOCK_PERSIST) under the new key was taken",
  );
  t.true(existsSync(pair.paths.nodeLocked));
  // A node that already dropped the old key refuses it.
  const onlyNew = new KeyedDatagrams({ keys: loadClusterKeys(keyFile(t, newKey)), logger: silentLogger(), windowMs: 60_000 });
  const oldSigner = new KeyedDatagrams({ keys: loadClusterKeys(keyFile(t, oldKey)), logger: silentLogger(), windowMs: 60_000 });
  t.is(onlyNew.open(oldSigner.seal(Buffer.from("x")), "127.0.0.1", "t"), undefined);
});
