import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { ClusterView } from "../src/heartbeat/cluster-view.js";
import { decodeHbsCommand, decodeHbsEvent, encodeHbsCommand, encodeHbsEvent, type HbsCommand } from "../src/heartbeat/hbs-messages.js";
import {
  freshPulseState,
  type MissContext,
  type MissOutcome,
  PMOND_MISSING_THRESHOLD,
  type PmondState,
  pmondFlag,
  pulseMissed,
  pulseReceived,
} from "../src/heartbeat/miss-counting.js";
import { clusterRows, formatClusterView } from "../src/heartbeat/sm-query.js";
import { historyInOrder } from "../src/wire/cluster-vault.js";
import { encodeMtcMessage, mtcMessage, Signature } from "../src/wire/mtc-message.js";

const ctx = (over: Partial<MissContext> = {}): MissContext => ({
  thresholds: { minor: 4, degrade: 6, failure: 10, failureAction: "fail" },
  active: true,
  degradeOnly: false,
  ...over,
});

function misses(n: number, network: "mgmt" | "clusterHost", c = ctx(), state = freshPulseState()) {
  const outs: Array<MissOutcome & { miss: number }> = [];
  for (let i = 1; i <= n; i++) outs.push({ miss: i, ...pulseMissed(state, network, c, "worker-1") });
  return { state, outs, with: (pred: (o: MissOutcome) => boolean) => outs.filter(pred).map((o) => o.miss) };
}

test("mgmt: minor at 4, major alarm + degrade at 6, critical alarm + loss at 10, nothing twice", (t) => {
  const r = misses(12, "mgmt");
  t.deepEqual(
    r.with((o) => o.events.includes("minorSet")),
    [4],
  );
  t.deepEqual(
    r.with((o) => o.events.includes("degradeSet")),
    [6],
  );
  t.deepEqual(
    r.with((o) => o.events.includes("loss")),
    [10],
  );
  t.deepEqual(
    r.with((o) => o.alarm === "major"),
    [6],
  );
  t.deepEqual(
    r.with((o) => o.alarm === "critical"),
    [10],
  );
  t.true(r.state.failure && r.state.degrade && r.state.minor);
});

test("cluster-host: no minor; the degrade-only rule gives the critical alarm but never a loss", (t) => {
  const plain = misses(10, "clusterHost");
  t.deepEqual(
    plain.with((o) => o.events.includes("minorSet")),
    [],
  );
  t.deepEqual(
    plain.with((o) => o.events.includes("loss")),
    [10],
  );
  const only = misses(10, "clusterHost", ctx({ degradeOnly: true }));
  t.deepEqual(
    only.with((o) => o.events.includes("degradeSet")),
    [6],
  );
  t.deepEqual(
    only.with((o) => o.events.length > 0 && o.events.includes("loss")),
    [],
  );
  t.deepEqual(
    only.with((o) => o.alarm === "critical"),
    [10],
  );
  t.false(only.state.failure);
});

test("the inactive controller only counts: no events, no alarms", (t) => {
  const r = misses(12, "mgmt", ctx({ active: false }));
  t.deepEqual(
    r.with((o) => o.events.length > 0 || o.alarm !== undefined),
    [],
  );
  t.true(r.state.failure);
});

test("failure action none raises no alarm but still reports the events", (t) => {
  const r = misses(10, "mgmt", ctx({ thresholds: { minor: 4, degrade: 6, failure: 10, failureAction: "none" } }));
  t.deepEqual(
    r.with((o) => o.alarm !== undefined),
    [],
  );
  t.deepEqual(
    r.with((o) => o.events.includes("loss")),
    [10],
  );
});

test("recovery: one pulse clears a degrade; after a failure 10 pulses in a row are needed", (t) => {
  const degraded = misses(7, "mgmt").state;
  const first = pulseReceived(degraded, ctx(), "worker-1");
  t.deepEqual(first.events.sort(), ["degradeClear", "minorClear"]);
  t.is(first.alarm, "clear");
  t.is(degraded.b2bMisses, 0);

  const failed = misses(10, "mgmt").state;
  for (let i = 1; i < 10; i++) {
    const o = pulseReceived(failed, ctx(), "worker-1");
    t.deepEqual(o.events, [], `pulse ${i}`);
    t.is(o.alarm, undefined);
  }
  const tenth = pulseReceived(failed, ctx(), "worker-1");
  t.deepEqual(tenth.events.sort(), ["degradeClear", "minorClear"]);
  t.is(tenth.alarm, "clear");
  t.false(failed.failure);
  // A miss in the middle of the recovery restarts the count.
  const again = misses(10, "mgmt").state;
  for (let i = 0; i < 5; i++) pulseReceived(again, ctx(), "w");
  pulseMissed(again, "mgmt", ctx(), "w");
  for (let i = 0; i < 9; i++) t.deepEqual(pulseReceived(again, ctx(), "w").events, []);
  t.true(pulseReceived(again, ctx(), "w").events.includes("degradeClear"));
});

test("the major alarm never replaces a critical one without a clear", (t) => {
  const s = misses(10, "mgmt").state;
  s.degrade = false; // a lost degrade flag is auto-corrected past the threshold...
  const o = pulseMissed(s, "mgmt", ctx(), "w");
  t.deepEqual(o.events, ["degradeSet"]);
  t.is(o.alarm, undefined); // ...but the critical alarm stays critical
});

test("pmond: raised after more than 100 responses without the flag, cleared when it comes back", (t) => {
  const s: PmondState = { missing: 0, degraded: false };
  const results: Array<string | undefined> = [];
  for (let i = 0; i < PMOND_MISSING_THRESHOLD + 5; i++) results.push(pmondFlag(s, false, true));
  t.is(results.indexOf("raise"), PMOND_MISSING_THRESHOLD);
  t.is(results.filter((r) => r).length, 1);
  t.is(pmondFlag(s, true, true), "clear");
  t.is(pmondFlag(s, true, true), undefined);
});

test("cluster view: own history per network, peer 0:0 injection, storage-0 debounce, lock clears", (t) => {
  const v = new ClusterView(0, 100);
  v.setMonitored(6, true);
  v.peerEnabled = true;
  for (let i = 0; i < 3; i++) {
    v.periodStart();
    v.peerPeriodEnd();
    v.update("mgmt", i, true, true);
  }
  let snap = v.snapshot(7);
  t.is(snap.reqid, 7);
  t.is(snap.histories.length, 1);
  t.deepEqual(
    historyInOrder(snap.histories[0]!).map((e) => `${e.hostsEnabled}:${e.hostsResponding}`),
    ["6:6", "6:5", "6:4"],
  );
  t.true(snap.histories[0]!.storage0Responding);
  // storage-0 silent: the bit clears only after 4 periods in a row.
  for (let i = 1; i <= 4; i++) {
    v.update("mgmt", 1, false, true);
    t.is(v.snapshot().histories[0]!.storage0Responding, i < 4, `miss ${i}`);
  }
  // The peer's view arrives in a response, then stops: 0:0 entries are injected.
  const peer = new ClusterView(1, 100);
  peer.setMonitored(6, true);
  for (let i = 0; i < 20; i++) peer.update("mgmt", 0, true, true);
  v.periodStart();
  v.savePeer(peer.ownHistories());
  v.peerPeriodEnd();
  snap = v.snapshot();
  t.is(snap.histories.length, 2);
  t.is(historyInOrder(snap.histories.find((h) => h.controller === 1)!).length, 20);
  v.takeChanges();
  v.periodStart();
  v.peerPeriodEnd();
  const peerHist = historyInOrder(v.snapshot().histories.find((h) => h.controller === 1)!);
  t.deepEqual(peerHist.at(-1), { hostsEnabled: 0, hostsResponding: 0 });
  t.deepEqual(peerHist.at(-2), { hostsEnabled: 6, hostsResponding: 6 });
  t.regex(v.takeChanges() ?? "", /missing peer controller view/);
  // Our own history in a peer's response is ignored.
  const before = JSON.stringify(v.snapshot().histories.find((h) => h.controller === 0));
  v.savePeer(new ClusterView(0, 100).snapshot());
  t.is(JSON.stringify(v.snapshot().histories.find((h) => h.controller === 0)), before);
  v.lock();
  t.is(v.snapshot().histories.length, 0);
});

test("the SM heartbeat failure bit follows the flag given at each update", (t) => {
  const v = new ClusterView(1, 100);
  v.setMonitored(2, false);
  v.update("clusterHost", 0, true, false);
  t.true(v.snapshot().histories[0]!.smHeartbeatFail);
  t.is(v.snapshot().histories[0]!.network, 1);
  v.update("clusterHost", 0, true, true);
  t.false(v.snapshot().histories[0]!.smHeartbeatFail);
});

const hostnameArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);
const ipArb = fc.ipV4();
const commandArb: fc.Arbitrary<HbsCommand> = fc.oneof(
  fc.record({ kind: fc.constant("addHost" as const), host: fc.record({ hostname: hostnameArb, mgmtIp: ipArb, nodeType: fc.integer({ min: 0, max: 7 }) }) }),
  fc.record({
    kind: fc.constant("addHost" as const),
    host: fc.record({ hostname: hostnameArb, mgmtIp: ipArb, clusterHostIp: ipArb, nodeType: fc.integer({ min: 0, max: 7 }) }),
  }),
  fc.record({
    kind: fc.constantFrom("delHost" as const, "startHost" as const, "stopHost" as const, "restartHost" as const, "activeController" as const),
    hostname: hostnameArb,
  }),
  fc.record({ kind: fc.constantFrom("backoff" as const, "recover" as const) }),
);

test("hbs commands and events: encode -> decode is the identity; random bytes never throw", (t) => {
  fc.assert(
    fc.property(commandArb, (c) => {
      const d = decodeHbsCommand(encodeHbsCommand(c));
      return d.ok && isDeepStrictEqual(d.value, JSON.parse(JSON.stringify(c)));
    }),
  );
  const eventArb = fc.record({
    kind: fc.constantFrom("ready", "minorSet", "minorClear", "degradeSet", "degradeClear", "loss", "pmondRaise", "pmondClear") as fc.Arbitrary<"loss">,
    hostname: hostnameArb,
    network: fc.constantFrom("mgmt" as const, "clusterHost" as const),
    from: hostnameArb,
  });
  fc.assert(
    fc.property(eventArb, (e) => {
      const bytes = encodeHbsEvent(e);
      const d = decodeHbsEvent(bytes);
      return bytes.length === 1060 && d.ok && isDeepStrictEqual(d.value, JSON.parse(JSON.stringify(e)));
    }),
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), (raw) => {
        decodeHbsCommand(Buffer.from(raw));
        decodeHbsEvent(Buffer.from(raw));
        return true;
      }),
      { numRuns: 1000 },
    ),
  );
});

test("hbs commands: hostile fields are refused with a reason", (t) => {
  const cmd = (buf: string, code = 0x11110010) => encodeMtcMessage(mtcMessage({ signature: Signature.hbsCmd, cmd: code, ver: 2, num: 1, buf }));
  t.regex((decodeHbsCommand(cmd("{not json")) as { reason: string }).reason, /bad JSON/);
  t.regex((decodeHbsCommand(cmd('{"hostname":"../../etc","mgmt_ip":"1.2.3.4"}')) as { reason: string }).reason, /hostname/);
  t.regex((decodeHbsCommand(cmd('{"hostname":"w1","mgmt_ip":"$(reboot)"}')) as { reason: string }).reason, /mgmt_ip/);
  t.regex((decodeHbsCommand(cmd('{"hostname":"w1"}', 0x12345678)) as { reason: string }).reason, /unknown hbs command/);
  const wrongSig = encodeMtcMessage(mtcMessage({ signature: Signature.cmdReq, cmd: 0x11110014, ver: 2, buf: '{"hostname":"w1"}' }));
  t.regex((decodeHbsCommand(wrongSig) as { reason: string }).reason, /not an hbs command/);
});

test("formatClusterView: one line per controller and network, enabled:responding oldest first, flags spelled out", (t) => {
  const v = new ClusterView(0, 100);
  v.setMonitored(5, true);
  v.update("mgmt", 0, true, true);
  v.update("mgmt", 1, true, false);
  v.update("clusterHost", 0, true, true);
  const text = formatClusterView(v.snapshot());
  t.is(
    text,
    [
      "cluster vault v1.0 period 100 ms, storage-0 enabled",
      "controller-0 mgmt         5:5 5:4  (sm-heartbeat-fail, storage-0 ok)",
      "controller-0 cluster-host 5:5  (storage-0 ok)",
    ].join("\n"),
  );
  t.deepEqual(
    clusterRows(v.snapshot()).map((r) => r.entries.length),
    [2, 1],
  );
});
