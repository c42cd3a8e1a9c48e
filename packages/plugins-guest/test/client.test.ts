import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "@metal/core/clock/index";
import { silentLogger } from "@metal/core/logging/index";
import test from "ava";
import { MessageChannel } from "../src/channel/message-channel.js";
import type { Received } from "../src/channel/messages.js";
import { collectVotes } from "../src/client/actions.js";
import type { DeviceHandlers } from "../src/client/device.js";
import { GuestClient, type GuestClientOptions } from "../src/client/guest-client.js";
import { HealthDamper, mergeAction } from "../src/client/health.js";
import { waitFor } from "./helpers/net.js";

/** The host end of an in-memory device: records what the client sends and can answer. */
class Host {
  readonly received: Received[] = [];
  handlers: DeviceHandlers | undefined;
  opens = 0;
  private readonly channel = new MessageChannel((f) => this.handlers?.data(Buffer.from(f)), { message: (m) => this.received.push(m), invalid: () => {} });
  open = async (_path: string, h: DeviceHandlers) => {
    this.opens++;
    this.handlers = h;
    return { write: (f: string) => this.channel.feed(Buffer.from(f)), close: () => {} };
  };
  send(m: Parameters<MessageChannel["send"]>[0]): void {
    this.channel.send(m);
  }
  all<T extends Received["msg_type"]>(type: T): Array<Extract<Received, { msg_type: T }>> {
    return this.received.filter((m) => m.msg_type === type) as Array<Extract<Received, { msg_type: T }>>;
  }
}

async function client(extra: Partial<GuestClientOptions> = {}) {
  const clock = new VirtualClock();
  const host = new Host();
  const c = new GuestClient({ device: "/dev/virtio-ports/cgcs.heartbeat", clock, logger: silentLogger(), open: host.open, name: "vm-1", ...extra });
  await c.start();
  await clock.advance(0);
  return { clock, host, c };
}

test("init every 5 s with a new invocation id (timeouts +1 s) until init_ack; then enabled", async (t) => {
  const { clock, host, c } = await client({ voteSecs: 8, restartSecs: 600, correctiveAction: "stop" });
  t.is(c.state, "enabling");
  await clock.advance(10_000);
  const inits = host.all("init");
  t.is(inits.length, 3);
  t.is(new Set(inits.map((i) => i.invocation_id)).size, 3);
  t.like(inits[0], { name: "vm-1", heartbeat_interval_ms: 1000, vote_secs: 9, restart_secs: 601, shutdown_notice_secs: 11, corrective_action: "stop" });
  // an ack for the previous attempt is accepted too
  host.send({ msg_type: "init_ack", invocation_id: inits[1]!.invocation_id });
  await clock.advance(0);
  t.is(c.state, "enabled");
  await clock.advance(4000);
  t.is(host.all("init").length, 3, "no more inits once enabled");
});

test("challenges are echoed; without challenges for max(2 intervals, 5 s) the client re-inits; stop sends exit", async (t) => {
  const { clock, host, c } = await client();
  host.send({ msg_type: "init_ack", invocation_id: host.all("init")[0]!.invocation_id });
  for (const v of [5, 2147483647, 0]) {
    host.send({ msg_type: "challenge", heartbeat_challenge: v });
    await clock.advance(1000);
  }
  t.deepEqual(
    host.all("challenge_response").map((r) => [r.heartbeat_response, r.heartbeat_health]),
    [
      [5, "healthy"],
      [2147483647, "healthy"],
      [0, "healthy"],
    ],
  );
  await clock.advance(3999);
  t.is(c.state, "enabled");
  await clock.advance(1);
  t.is(c.state, "enabling");
  t.is(host.all("init").length, 2);
  host.send({ msg_type: "init_ack", invocation_id: host.all("init")[1]!.invocation_id });
  await clock.advance(0);
  await c.stop("powering off");
  t.is(host.all("exit")[0]?.log_msg, "powering off");
});

test("an unhealthy app: the action is reported, then damped to 'none' for 60 s; merge priority stop > reboot > log", async (t) => {
  const { clock, host, c } = await client({ correctiveAction: "log" });
  let sick = false;
  c.addHealthProvider(() => (sick ? { healthy: false, action: "reboot", log: "queue stuck" } : { healthy: true }));
  c.addHealthProvider(() => ({ healthy: true }));
  host.send({ msg_type: "init_ack", invocation_id: host.all("init")[0]!.invocation_id });
  const challenge = async () => {
    host.send({ msg_type: "challenge", heartbeat_challenge: 1 });
    await clock.advance(1000);
    return host.all("challenge_response").at(-1)!;
  };
  t.is((await challenge()).heartbeat_health, "healthy");
  sick = true;
  t.like(await challenge(), { heartbeat_health: "unhealthy", corrective_action: "reboot", log_msg: "queue stuck" });
  t.like(await challenge(), { heartbeat_health: "unhealthy", corrective_action: "none" });
  await clock.advance(60_000);
  host.send({ msg_type: "init_ack", invocation_id: host.all("init").at(-1)!.invocation_id });
  await clock.advance(0);
  t.like(await challenge(), { heartbeat_health: "unhealthy", corrective_action: "reboot" });
  t.is(mergeAction("reboot", "stop"), "stop");
  t.is(mergeAction("log", "reboot"), "reboot");
  t.is(mergeAction("none", "log"), "log");
  const d = new HealthDamper(60_000);
  t.is(d.apply({ health: "healthy", action: "none", log: "" }, 0).action, "none");
});

test("votes: any reject wins; all agree gives accept or complete; no handlers agree at once; the deadline gives timeout", async (t) => {
  const agree = async () => ({ vote: "accept" as const });
  const reject = async () => ({ vote: "reject" as const, reason: "busy" });
  const never = () => new Promise<{ vote: "accept" }>(() => {});
  const noDeadline = () => () => {};
  t.deepEqual(await collectVotes([agree, reject], "stop", "revocable", noDeadline).outcome, { vote: "reject", reason: "busy" });
  t.deepEqual(await collectVotes([agree, agree], "stop", "irrevocable", noDeadline).outcome, { vote: "complete", reason: "" });
  t.deepEqual(await collectVotes([], "pause", "revocable", noDeadline).outcome, { vote: "accept", reason: "" });
  let expire: () => void = () => {};
  const pending = collectVotes([agree, never], "stop", "revocable", (fn) => {
    expire = fn;
    return () => {};
  });
  await new Promise((r) => setImmediate(r));
  expire();
  t.is((await pending.outcome)?.vote, "timeout");
  const withReject = collectVotes([reject, never], "stop", "revocable", (fn) => {
    expire = fn;
    return () => {};
  });
  await new Promise((r) => setImmediate(r));
  expire();
  t.is((await withReject.outcome)?.vote, "reject", "a reject already in beats the timeout");
});

test("action_notify runs the event script (revocable|irrevocable, event) and answers a second before the host's deadline", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "metal-guest-client-"));
  const script = join(dir, "event.sh");
  writeFileSync(script, `#!/bin/sh\necho "$1 $2" >> ${dir}/calls\nif [ "$2" = stop ]; then echo "not now"; exit 3; fi\nexit 0\n`);
  chmodSync(script, 0o755);
  const { clock, host } = await client({ eventScript: script });
  const id = host.all("init")[0]!.invocation_id;
  host.send({ msg_type: "init_ack", invocation_id: id });
  await clock.advance(0);
  host.send({ msg_type: "action_notify", invocation_id: id, event_type: "stop", notification_type: "revocable", timeout_ms: 10_000 });
  t.true(await waitFor(() => host.all("action_response").length === 1, 10_000));
  t.like(host.all("action_response")[0], { invocation_id: id, event_type: "stop", vote_result: "reject", log_msg: "not now" });
  host.send({ msg_type: "action_notify", invocation_id: id, event_type: "reboot", notification_type: "irrevocable", timeout_ms: 10_000 });
  t.true(await waitFor(() => host.all("action_response").length === 2, 10_000));
  t.like(host.all("action_response")[1], { vote_result: "complete", notification_type: "irrevocable" });
});

test("an app that never answers: timeout is sent at timeout_ms - 1000", async (t) => {
  const { clock, host, c } = await client();
  c.addActionHandler(() => new Promise(() => {}));
  const id = host.all("init")[0]!.invocation_id;
  host.send({ msg_type: "init_ack", invocation_id: id });
  await clock.advance(0);
  host.send({ msg_type: "action_notify", invocation_id: id, event_type: "suspend", notification_type: "revocable", timeout_ms: 4000 });
  await clock.advance(2999);
  t.is(host.all("action_response").length, 0);
  await clock.advance(1);
  t.like(host.all("action_response")[0], { vote_result: "timeout", log_msg: "Timeout on application and/or script action responses." });
});

test("a missing device is retried; a hang-up goes to disabled and reopens", async (t) => {
  const clock = new VirtualClock();
  const host = new Host();
  let present = false;
  const c = new GuestClient({
    device: "/nope",
    clock,
    logger: silentLogger(),
    open: (p, h) => (present ? host.open(p, h) : Promise.reject(Object.assign(new Error("ENOENT"), { code: "ENOENT" }))),
  });
  await c.start();
  t.is(c.state, "disabled");
  present = true;
  await clock.advance(1000);
  t.is(c.state, "enabling");
  host.handlers?.closed("hangup");
  t.is(c.state, "disabled");
  await clock.advance(1000);
  t.is(c.state, "enabling");
  t.is(host.opens, 2);
  await c.stop();
});

test("a challenge timer that fires far too late (the VM was frozen) waits one more period before re-init", async (t) => {
  /** Virtual time where the wall clock can jump ahead without timers firing, as in a paused VM. */
  class FreezableClock extends VirtualClock {
    skew = 0;
    override now(): number {
      return super.now() + this.skew;
    }
  }
  const clock = new FreezableClock();
  const host = new Host();
  const c = new GuestClient({ device: "/dev/x", clock, logger: silentLogger(), open: host.open });
  await c.start();
  await clock.advance(0);
  host.send({ msg_type: "init_ack", invocation_id: host.all("init")[0]!.invocation_id });
  await clock.advance(0);
  t.is(c.state, "enabled");
  clock.skew = 30_000; // frozen for 30 s
  await clock.advance(5000);
  t.is(c.state, "enabled", "not our fault: one more period");
  await clock.advance(5000);
  t.is(c.state, "enabling", "still no challenge after that: start over");
});
