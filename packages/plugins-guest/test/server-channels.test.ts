import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SystemClock } from "@metal/core/clock/index";
import { defaultConfig } from "@metal/core/config/index";
import { silentLogger } from "@metal/core/logging/index";
import test from "ava";
import fc from "fast-check";
import { GuestServer } from "../src/server/guest-server.js";
import { GuestCmd, GuestEvent } from "../src/udp/codes.js";
import { UdpPeer, waitFor } from "./helpers/net.js";
import { SocketGuest } from "./helpers/socket-guest.js";

const UUID_A = "6f1e0d3a-1111-4c2b-8a77-000000000001";
const UUID_B = "6f1e0d3a-2222-4c2b-8a77-000000000002";
const chan = (dir: string, uuid: string) => join(dir, `cgcs.heartbeat.${uuid}.sock`);

/** A guestServer on real sockets and a real directory watch; the test's UDP peer plays guestAgent. */
async function setup(t: import("ava").ExecutionContext, opts: { createDir?: boolean; rescanSeconds?: number } = {}) {
  const root = mkdtempSync(join(tmpdir(), "metal-guest-"));
  const dir = join(root, "qemu");
  if (opts.createDir !== false) mkdirSync(dir);
  const agent = await UdpPeer.bind();
  const config = defaultConfig({
    node: { hostname: "worker-0" },
    guest: { server: { port: 0, agentAddress: "127.0.0.1", rescanSeconds: opts.rescanSeconds ?? 180 }, agent: { port: agent.port } },
  });
  const server = new GuestServer({ config, clock: new SystemClock(), logger: silentLogger(), channelDir: dir });
  const { port } = await server.start();
  const guests: SocketGuest[] = [];
  t.teardown(async () => {
    await server.stop();
    for (const g of guests) await g.close().catch(() => {});
    await agent.close();
    rmSync(root, { recursive: true, force: true });
  });
  const events = (code: number, uuid?: string) => agent.received.filter((d) => d.cmd === code && (!uuid || d.payload.uuid === uuid));
  return { dir, agent, server, port, guests, events };
}

test("a channel that appears is connected and heartbeats; deleting the socket removes the instance; a new one re-adds it", async (t) => {
  const { dir, agent, server, port, guests, events } = await setup(t);
  t.true(await waitFor(() => events(GuestEvent.MTC_EVENT_MONITOR_READY).length > 0, 5000), "READY reaches the configured agent before it has spoken");
  agent.send(port, GuestCmd.MTC_CMD_MOD_HOST, { source: "127.0.0.1", uuid: "host-uuid", heartbeat: "enabled" });

  const guest = await SocketGuest.listen(chan(dir, UUID_A));
  guests.push(guest);
  t.true(await waitFor(() => guest.connected, 10_000), "guestServer connects to the new socket");
  guest.init(400, "stop");
  t.true(await waitFor(() => events(GuestEvent.MTC_EVENT_HEARTBEAT_RUNNING, UUID_A).length > 0, 10_000), "RUNNING reported");
  t.true(await waitFor(() => guest.count("challenge") >= 3, 10_000), "challenged every interval");
  t.is(server.instance(UUID_A)?.heartbeating, true);

  // The agent's query lists it.
  agent.send(port, GuestCmd.MTC_CMD_QRY_INST, { source: "127.0.0.1" });
  t.true(await waitFor(() => events(GuestEvent.MTC_CMD_QRY_INST, UUID_A).length > 0, 5000));
  t.is(events(GuestEvent.MTC_CMD_QRY_INST, UUID_A)[0]?.payload["repair-action"], "stop");

  unlinkSync(guest.path);
  t.true(await waitFor(() => server.instance(UUID_A) === undefined, 10_000), "socket deleted -> instance removed");
  t.false(events(GuestEvent.MTC_EVENT_HEARTBEAT_LOSS).length > 0, "a removed instance raises no loss");

  await guest.close(false);
  const again = await SocketGuest.listen(chan(dir, UUID_A));
  guests.push(again);
  t.true(await waitFor(() => again.connected, 10_000), "a re-created socket is re-added and connected");
  t.truthy(server.instance(UUID_A));
});

test("malformed, oversized, version-2 and unknown frames over the socket get a nack; the server keeps heartbeating the guest", async (t) => {
  const { dir, server, guests, events } = await setup(t);
  const guest = await SocketGuest.listen(chan(dir, UUID_B));
  guests.push(guest);
  t.true(await waitFor(() => guest.connected, 10_000));
  guest.raw(`\n{"version":2,"revision":1,"msg_type":"init","sequence":1,"invocation_id":1}\n`);
  guest.raw("\n{this is not json}\n");
  guest.raw(`\n{"version":3,"revision":1,"msg_type":"init","sequence":2,"name":"${"z".repeat(4000)}"}\n`);
  guest.raw(Buffer.from([0xff, 0xfe, 0x0a, 0x00, 0x7b, 0x0a]).toString("latin1"));
  guest.raw(`\n{"version":3,"revision":1,"msg_type":"reboot_me","sequence":3}\n`);
  t.true(await waitFor(() => guest.nacks().length >= 5, 5000), guest.nacks().join(" | "));
  t.is(guest.nacks()[0], "Bad version: 2, expect version: 3");
  t.true(guest.nacks().includes("message too large: over 1056 bytes"));
  t.true(guest.nacks().includes("unsupported message type: reboot_me"));
  guest.init(400);
  t.true(await waitFor(() => events(GuestEvent.MTC_EVENT_HEARTBEAT_RUNNING, UUID_B).length > 0, 10_000), "still works after the garbage");
  t.is(server.instance(UUID_B)?.hbState !== "waiting_init", true);
});

test("a channel directory that appears after start is found by the rescan", async (t) => {
  const { dir, server, guests } = await setup(t, { createDir: false, rescanSeconds: 1 });
  mkdirSync(dir);
  const guest = await SocketGuest.listen(chan(dir, UUID_A));
  guests.push(guest);
  t.true(await waitFor(() => guest.connected, 15_000), "rescan + watch pick it up");
  t.truthy(server.instance(UUID_A));
});

test("a socket replaced in place (rename over it) is re-added and reconnected; a chmod alone is left alone", async (t) => {
  const { dir, server, guests, events, agent, port } = await setup(t);
  agent.send(port, GuestCmd.MTC_CMD_MOD_HOST, { source: "127.0.0.1", uuid: "host-uuid", heartbeat: "enabled" });
  const first = await SocketGuest.listen(chan(dir, UUID_B));
  guests.push(first);
  t.true(await waitFor(() => first.connected, 10_000));
  agent.send(port, GuestCmd.MTC_CMD_MOD_INST, { source: "127.0.0.1", uuid: UUID_B, service: "heartbeat", state: "enabled" });
  t.true(await waitFor(() => server.instance(UUID_B)?.reporting === true, 5000));
  first.init(400);
  t.true(await waitFor(() => events(GuestEvent.MTC_EVENT_HEARTBEAT_RUNNING, UUID_B).length > 0, 10_000));
  // libvirt changes owner/mode after creating the socket: a metadata change, not a new channel
  chmodSync(first.path, 0o660);
  await new Promise((r) => setTimeout(r, 1500));
  t.is(first.connections, 1, "no reconnect for a chmod");
  // QEMU restarted: a new socket renamed over the old path (a new inode)
  const staging = join(dir, "staging.sock");
  const second = await SocketGuest.listen(staging);
  guests.push(second);
  renameSync(staging, chan(dir, UUID_B));
  t.true(await waitFor(() => second.connected, 10_000), "the new socket is connected");
  second.init(400);
  t.true(await waitFor(() => second.count("challenge") > 0, 10_000));
  t.true(server.instance(UUID_B)?.reporting, "the re-added instance keeps the agent's reporting state");
});

test("random commands and bytes from the agent's side never break guestServer", async (t) => {
  const { dir, agent, port, guests, events, server } = await setup(t);
  const guest = await SocketGuest.listen(chan(dir, UUID_A));
  guests.push(guest);
  t.true(await waitFor(() => guest.connected, 10_000));
  guest.init(400);
  const cmds = Object.values(GuestCmd);
  const payload = fc.dictionary(
    fc.constantFrom("uuid", "state", "event", "heartbeat", "source", "service"),
    fc.oneof(fc.constantFrom(UUID_A, "enabled", "disabled", "reboot", "resume", "pause"), fc.string({ maxLength: 40 }), fc.integer()),
  );
  // paced, so what is tested is the handling, not the socket buffer
  const pause = () => new Promise((r) => setTimeout(r, 10));
  for (const [i, [cmd, p]] of fc.sample(fc.tuple(fc.oneof(fc.constantFrom(...cmds), fc.nat()), payload), 300).entries()) {
    agent.send(port, cmd, p);
    if (i % 20 === 19) await pause();
  }
  for (const [i, bytes] of fc.sample(fc.uint8Array({ maxLength: 1200 }), 100).entries()) {
    agent.socket.send(bytes, port, "127.0.0.1");
    if (i % 20 === 19) await pause();
  }
  await pause();
  agent.received.length = 0;
  agent.send(port, GuestCmd.MTC_CMD_ADD_INST, { source: "127.0.0.1", uuid: UUID_B, service: "heartbeat", state: "enabled" });
  agent.send(port, GuestCmd.MTC_CMD_QRY_INST, { source: "127.0.0.1" });
  t.true(await waitFor(() => events(GuestEvent.MTC_CMD_QRY_INST, UUID_B).length > 0, 10_000), "still answering queries");
  t.truthy(server.instance(UUID_B));
});
