import test from "ava";
import fc from "fast-check";
import { validateHandler } from "../src/fsm/engine.js";
import { electionHandler } from "../src/ha/election.js";
import { compareViews, parseViewSummary, summarizeVault, type ViewSummary } from "../src/ha/view-summary.js";
import { emptyHistory, emptyVault } from "../src/wire/cluster-vault.js";

const view = (hostname: string, responding: number | undefined): ViewSummary => ({ hostname, at: 0, periodMs: 100, networks: [], responding });

test("the election machine declares only real stages", (t) => {
  t.deepEqual(validateHandler(electionHandler), []);
});

test("summarizeVault: the worst network's average hosts responding over the history", (t) => {
  const v = emptyVault(100);
  const mgmt = emptyHistory(0, 0);
  const clstr = emptyHistory(0, 1);
  const peer = emptyHistory(1, 0);
  for (let i = 0; i < 20; i++) {
    mgmt.entry[i] = { hostsEnabled: 6, hostsResponding: 6 };
    clstr.entry[i] = { hostsEnabled: 6, hostsResponding: i < 10 ? 6 : 2 };
    peer.entry[i] = { hostsEnabled: 6, hostsResponding: 0 };
  }
  for (const h of [mgmt, clstr, peer]) h.entries = 20;
  v.histories = [mgmt, clstr, peer];
  const s = summarizeVault(v, 0, "controller-0", 1);
  t.deepEqual(
    s.networks.map((n) => [n.network, n.enabled, n.responding, n.periods]),
    [
      ["cluster-host", 6, 4, 20],
      ["mgmt", 6, 6, 20],
    ],
  );
  t.is(s.responding, 4, "the cluster-host network decides: it sees fewer");
  t.is(summarizeVault(emptyVault(100), 0, "controller-0", 1).responding, undefined, "no history: no verdict");
});

test("compareViews: the split-brain rule's margin, and no verdict without both views", (t) => {
  t.is(compareViews(view("c0", 3), view("c1", 5), 2), "peer-healthier");
  t.is(compareViews(view("c0", 3.5), view("c1", 5), 2), "even");
  t.is(compareViews(view("c0", 7), view("c1", 5), 2), "own-healthier");
  t.is(compareViews(undefined, view("c1", 5), 2), "unknown");
  t.is(compareViews(view("c0", undefined), view("c1", 5), 2), "unknown");
  // Antisymmetric: what is peer-healthier from one side is own-healthier from the other.
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: 0.5, max: 10, noNaN: true }),
        (a, b, m) => {
          const ab = compareViews(view("a", a), view("b", b), m);
          const ba = compareViews(view("b", b), view("a", a), m);
          const flip = { "peer-healthier": "own-healthier", "own-healthier": "peer-healthier", even: "even", unknown: "unknown" } as const;
          return flip[ab] === ba;
        },
      ),
    ),
  );
});

test("parseViewSummary never throws and accepts only summaries", (t) => {
  t.deepEqual(parseViewSummary(JSON.stringify(view("c1", 4)))?.responding, 4);
  t.is(parseViewSummary("{"), undefined);
  t.is(parseViewSummary(JSON.stringify({ hostname: "x", at: 1, networks: [{}] })), undefined);
  t.notThrows(() => fc.assert(fc.property(fc.string(), (s) => parseViewSummary(s) === undefined || typeof parseViewSummary(s)?.hostname === "string")));
  t.notThrows(() => fc.assert(fc.property(fc.json(), (s) => parseViewSummary(s) === undefined || typeof parseViewSummary(s)?.hostname === "string")));
});
