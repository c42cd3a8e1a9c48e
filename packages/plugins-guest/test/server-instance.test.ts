import { VirtualClock } from "@metal/core/clock/index";
import test from "ava";
import { GuestInstance } from "../src/server/instance.js";
import { MemoryConnector, MemoryGuest, memoryContext, type Report } from "./helpers/memory-guest.js";

const UUID = "0b4a4e2c-6a4c-4d3f-9c55-3f1d2a7e9b10";
const PATH = `/chan/cgcs.heartbeat.${UUID}.sock`;

/** An instance in virtual time whose channel file exists; connected after the first 1 s connect wait. */
async function connected(opts: { reporting?: boolean; hostReporting?: boolean } = {}) {
  const clock = new VirtualClock();
  const guest = new MemoryGuest();
  const connector = new MemoryConnector(guest);
  connector.present.add(PATH);
  const reports: Report[] = [];
  const inst = new GuestInstance(
    UUID,
    memoryContext(clock, connector, reports, () => opts.hostReporting ?? true),
  );
  inst.setReporting(opts.reporting ?? true);
  inst.attach(PATH);
  await clock.advance(1000);
  return { clock, guest, connector, reports, inst };
}

const codes = (reports: Report[]) => reports.map((r) => r.code);

test("init gets init_ack at once, then a challenge; the first good answer reports RUNNING", async (t) => {
  const { clock, guest, reports, inst } = await connected();
  t.true(inst.connected);
  guest.init(1000, 4242, "stop");
  await clock.advance(0);
  t.is(guest.received[0]?.msg_type, "init_ack");
  t.is((guest.received[0] as { invocation_id: number }).invocation_id, 4242);
  t.is(guest.received[1]?.msg_type, "challenge");
  t.deepEqual(codes(reports), ["MTC_EVENT_HEARTBEAT_RUNNING"]);
  t.is(reports[0]?.payload.heartbeating, "enabled");
  t.is(reports[0]?.payload["repair-action"], "stop");
  t.is(reports[0]?.payload["vote-to"], "9");
  await clock.advance(10_000);
  t.is(guest.count("challenge"), 11, "one challenge per interval");
  t.deepEqual(codes(reports), ["MTC_EVENT_HEARTBEAT_RUNNING"], "no loss while answering");
});

test("a guest that stops answering is lost on the 2nd miss: within 2 intervals + 10% of the first unanswered challenge", async (t) => {
  for (const interval of [400, 1000, 2500]) {
    const { clock, guest, reports, inst } = await connected();
    guest.init(interval, 1, "reboot");
    await clock.advance(interval * 5);
    guest.answering = false;
    const challengesBefore = guest.count("challenge");
    await clock.advanceUntil(() => guest.count("challenge") > challengesBefore, interval * 2, 10);
    const firstUnanswered = clock.now();
    await clock.advanceUntil(() => reports.some((r) => r.code === "MTC_EVENT_HEARTBEAT_LOSS"), interval * 5, 10);
    const loss = reports.find((r) => r.code === "MTC_EVENT_HEARTBEAT_LOSS");
    t.truthy(loss, `loss at ${interval} ms`);
    t.true(loss!.at - firstUnanswered <= interval * 2.2, `${interval} ms: lost ${loss!.at - firstUnanswered} ms after the first unanswered challenge`);
    t.deepEqual(loss!.payload, { hostname: "worker-0", uuid: UUID });
    t.true(codes(reports).includes("MTC_EVENT_HEARTBEAT_STOPPED"));
    t.is(inst.failures, 1);
    t.is(inst.info()["repair-action"], "reboot", "the agent takes the repair action from the init");
  }
});

test("one miss is not a loss; heartbeat carries on when answers resume", async (t) => {
  const { clock, guest, reports } = await connected();
  guest.init(1000);
  await clock.advance(3000);
  guest.answering = false;
  await clock.advance(1000); // the challenge of this tick goes unanswered
  guest.answering = true;
  await clock.advance(1000); // miss 1: the same challenge is resent, and answered
  await clock.advance(10_000);
  t.false(codes(reports).includes("MTC_EVENT_HEARTBEAT_LOSS"));
});

test("no LOSS is reported while host or instance reporting is disabled", async (t) => {
  for (const opts of [{ hostReporting: false }, { reporting: false }]) {
    const { clock, guest, reports } = await connected(opts);
    guest.init(1000);
    await clock.advance(2000);
    guest.answering = false;
    await clock.advance(10_000);
    t.false(codes(reports).includes("MTC_EVENT_HEARTBEAT_LOSS"), JSON.stringify(opts));
  }
});

test("the interval is raised to the 400 ms minimum", async (t) => {
  const { clock, guest, inst } = await connected();
  guest.init(100);
  await clock.advance(4000);
  t.is(inst.intervalMs, 400);
  t.is(guest.count("challenge"), 11);
});

test("an unhealthy answer with an action raises ILLHEALTH with that action; 'none' does not", async (t) => {
  const { clock, guest, reports } = await connected();
  guest.health = "unhealthy";
  guest.action = "none";
  guest.init(1000, 5, "reboot");
  await clock.advance(3000);
  t.false(codes(reports).includes("MTC_EVENT_HEARTBEAT_ILLHEALTH"));
  guest.action = "stop";
  await clock.advance(1000);
  const ill = reports.find((r) => r.code === "MTC_EVENT_HEARTBEAT_ILLHEALTH");
  t.is(ill?.payload["repair-action"], "stop");
  t.is(ill?.payload.uuid, UUID);
  t.false(codes(reports).includes("MTC_EVENT_HEARTBEAT_LOSS"), "unhealthy is not lost");
});

test("exit is graceful: STOPPED, waiting_init, no loss", async (t) => {
  const { clock, guest, reports, inst } = await connected();
  guest.init(1000);
  await clock.advance(2000);
  guest.answering = false;
  guest.send({ msg_type: "exit", log_msg: "shutting down" });
  await clock.advance(10_000);
  t.is(inst.hbState, "waiting_init");
  t.deepEqual(codes(reports), ["MTC_EVENT_HEARTBEAT_RUNNING", "MTC_EVENT_HEARTBEAT_STOPPED"]);
});

test("vote: action_notify carries vote_secs*1000; no answer by then counts as accept", async (t) => {
  const { clock, guest, reports, inst } = await connected();
  guest.init(1000);
  await clock.advance(2000);
  inst.requestAction("stop", "revocable");
  await clock.advance(0);
  const notify = guest.last("action_notify") as { timeout_ms: number; notification_type: string; invocation_id: number } | undefined;
  t.is(notify?.timeout_ms, 9000);
  t.is(notify?.notification_type, "revocable");
  t.is(notify?.invocation_id, 77);
  await clock.advance(8999);
  t.false(codes(reports).includes("MTC_EVENT_VOTE_NOTIFY"));
  await clock.advance(1);
  const vote = reports.find((r) => r.code === "MTC_EVENT_VOTE_NOTIFY");
  t.is(vote?.payload.vote, "accept");
  t.is(vote?.payload["event-type"], "stop");
});

test("notify timeouts use the notice periods in ms (QUIRK fixed: no bare vote_secs); a silent guest counts as complete", async (t) => {
  const { clock, guest, reports, inst } = await connected();
  guest.init(1000);
  await clock.advance(2000);
  const cases: Array<[string, number]> = [
    ["reboot", 11_000],
    ["suspend", 12_000],
    ["resize_begin", 12_000],
    ["live_migrate_end", 14_000],
    ["unknown-event", 9_000],
  ];
  for (const [event, ms] of cases) {
    inst.requestAction(event, "irrevocable");
    await clock.advance(0);
    t.is((guest.last("action_notify") as { timeout_ms: number }).timeout_ms, ms, event);
    await clock.advance(ms);
    t.is(reports.filter((r) => r.code === "MTC_EVENT_VOTE_NOTIFY").at(-1)?.payload.vote, "complete", event);
    // suspend closes the channel; bring the guest back for the next case
    if (!inst.connected) {
      inst.requestAction("resume", "irrevocable");
      await clock.advance(1000);
      guest.init(1000);
      await clock.advance(2000);
    }
  }
});

test("the guest's reject reaches the report with its reason; a wrong invocation id gets a nack", async (t) => {
  const { clock, guest, reports, inst } = await connected();
  guest.init(1000, 31);
  await clock.advance(2000);
  inst.requestAction("reboot", "revocable");
  await clock.advance(0);
  guest.send({ msg_type: "action_response", invocation_id: 999, event_type: "reboot", notification_type: "revocable", vote_result: "reject", log_msg: "x" });
  await clock.advance(0);
  t.regex((guest.last("nack") as { log_msg: string }).log_msg, /Invocation id mismatch\. Received: 999 expect: 31/);
  guest.send({
    msg_type: "action_response",
    invocation_id: 31,
    event_type: "reboot",
    notification_type: "revocable",
    vote_result: "reject",
    log_msg: "db busy",
  });
  await clock.advance(0);
  const vote = reports.find((r) => r.code === "MTC_EVENT_VOTE_NOTIFY");
  t.deepEqual(vote?.payload, { hostname: "worker-0", uuid: UUID, notification_type: "revocable", "event-type": "reboot", vote: "reject", reason: "db busy" });
});

test("after an irrevocable pause the silent guest raises no loss, and heartbeat resumes on its next init", async (t) => {
  const { clock, guest, reports, inst } = await connected();
  guest.vote = "complete";
  guest.init(1000);
  await clock.advance(2000);
  inst.requestAction("pause", "irrevocable");
  await clock.advance(0);
  guest.answering = false;
  await clock.advance(60_000);
  t.false(codes(reports).includes("MTC_EVENT_HEARTBEAT_LOSS"));
  guest.answering = true;
  guest.init(1000, 78);
  await clock.advance(3000);
  t.is(inst.hbState, "waiting_challenge");
  t.true(inst.heartbeating);
});

test("an irrevocable reboot: the guest going quiet is not a loss, and waiting_init is forced after 60 s", async (t) => {
  const { clock, guest, reports, inst } = await connected();
  guest.vote = "complete";
  guest.init(1000);
  await clock.advance(2000);
  inst.requestAction("reboot", "irrevocable");
  await clock.advance(0);
  guest.answering = false;
  await clock.advance(61_000);
  t.false(codes(reports).includes("MTC_EVENT_HEARTBEAT_LOSS"));
  t.is(inst.hbState, "waiting_init");
  // After the reboot the guest inits again; a later real loss is reported again.
  guest.answering = true;
  guest.init(1000, 80);
  await clock.advance(3000);
  guest.answering = false;
  await clock.advance(4000);
  t.true(codes(reports).includes("MTC_EVENT_HEARTBEAT_LOSS"));
});

test("bad frames get a nack and the instance carries on: version 2, malformed JSON, oversized, missing keys, unknown type", async (t) => {
  const { clock, guest, reports } = await connected();
  guest.raw(`\n{"version":2,"revision":1,"msg_type":"init","sequence":1}\n`);
  guest.raw("\n{not json at all\n");
  guest.raw(`\n{"version":3,"revision":1,"msg_type":"init","sequence":2,"name":"${"x".repeat(2000)}"}\n`);
  guest.raw(`\n{"version":3,"revision":1,"msg_type":"challenge_response","sequence":3}\n`);
  guest.raw(`\n{"version":3,"revision":1,"msg_type":"frobnicate","sequence":4}\n`);
  guest.raw(`\n{"revision":1,"msg_type":"init","sequence":5}\n`);
  await clock.advance(0);
  const nacks = guest.received.filter((m) => m.msg_type === "nack").map((m) => (m as { log_msg: string }).log_msg);
  t.deepEqual(nacks, [
    "Bad version: 2, expect version: 3",
    "failed to parse message: not JSON",
    "message too large: over 1056 bytes",
    "failed to parse heartbeat_response",
    "unsupported message type: frobnicate",
    "failed to parse version",
  ]);
  guest.init(1000);
  await clock.advance(2000);
  t.deepEqual(codes(reports), ["MTC_EVENT_HEARTBEAT_RUNNING"]);
});

test("connect backs off 1, 2, 4 ... capped at 60 s while the socket is missing, and resets after a connect", async (t) => {
  const clock = new VirtualClock();
  const guest = new MemoryGuest();
  const connector = new MemoryConnector(guest);
  const reports: Report[] = [];
  const inst = new GuestInstance(UUID, memoryContext(clock, connector, reports));
  inst.attach(PATH);
  const waits: number[] = [];
  for (let i = 0; i < 9; i++) {
    waits.push(inst.connectWaitS);
    await clock.advance(inst.connectWaitS * 1000);
  }
  t.deepEqual(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
  connector.present.add(PATH);
  await clock.advance(60_000);
  t.true(inst.connected);
  t.is(inst.connectWaitS, 1);
});

test("QEMU closing the channel stops heartbeating and reconnects; 120 s without heartbeat forces a reconnect", async (t) => {
  const { clock, guest, connector, reports, inst } = await connected();
  guest.init(1000);
  await clock.advance(2000);
  connector.hangup();
  t.false(inst.connected);
  t.deepEqual(codes(reports), ["MTC_EVENT_HEARTBEAT_RUNNING", "MTC_EVENT_HEARTBEAT_STOPPED"]);
  await clock.advance(1000);
  t.true(inst.connected);
  t.is(connector.connects, 2);
  // connected but the guest never inits: reconnect after 120 s
  await clock.advance(120_000);
  t.is(connector.closes, 1);
  await clock.advance(1000);
  t.is(connector.connects, 3);
});

test("a re-init while heartbeating is taken at once (QUIRK fixed: the original dropped it)", async (t) => {
  const { clock, guest, inst } = await connected();
  guest.init(1000, 1);
  await clock.advance(2000);
  const acks = guest.count("init_ack");
  guest.init(2000, 2);
  await clock.advance(0);
  t.is(guest.count("init_ack"), acks + 1);
  t.is(inst.intervalMs, 2000);
  t.is(inst.invocationId, 2);
});

test("a guest streaming garbage gets at most 20 nacks a second, and is still heartbeated", async (t) => {
  const { clock, guest, reports } = await connected();
  guest.init(1000);
  await clock.advance(1000);
  for (let i = 0; i < 200; i++) guest.raw(`\n{"version":${i % 3},"msg_type":"x"}\n`);
  await clock.advance(0);
  t.is(guest.count("nack"), 20);
  await clock.advance(1000);
  guest.raw('\n{"version":1,"msg_type":"x"}\n');
  await clock.advance(0);
  t.is(guest.count("nack"), 21, "the budget renews each second");
  await clock.advance(5000);
  t.deepEqual(codes(reports), ["MTC_EVENT_HEARTBEAT_RUNNING"]);
});
