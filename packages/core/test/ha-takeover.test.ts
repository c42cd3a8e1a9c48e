/**
 * The controller pair on real etcd with real `metal agent` processes (issue 12): swact both ways with 5 hosts in
 * service; a lock the old active acknowledged just before it died is carried out by the new one; active alarms and the
 * alarm history live in etcd and survive failovers. Every command a host receives is recorded with its sender.
 */
import { readFileSync } from "node:fs";
import test from "ava";
import { storeSchema } from "../src/config/ha-schema.js";
import { createEtcdClient } from "../src/ha/etcd-client.js";
import { EtcdInventoryStore } from "../src/inventory/etcd-store.js";
import type { AgentHaView } from "../src/lab/agent-process.js";
import { agentAddress, type HaPair } from "../src/lab/ha-pair.js";
import { activeIndex, commandsQuiet, pairStates, settledHosts, startPair as startPairOf } from "./support/ha-pair-waits.js";

const TTL = 3;

const startPair = (t: { teardown(fn: () => Promise<void>): void }) => startPairOf(t, TTL);
const settled = settledHosts;
const states = pairStates;

async function patch(pair: HaPair, i: number, host: string, action: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${pair.agents[i]?.apiUrl}/v1/hosts/${host}`, {
    method: "PATCH",
    headers: { "content-type": "application/json", authorization: `Bearer ${readFileSync(pair.tokenFile, "utf8").trim()}` },
    body: JSON.stringify({ action }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function alarms(pair: HaPair, i: number): Promise<Array<{ id: string; hostname: string }>> {
  const res = await fetch(`${pair.agents[i]?.apiUrl}/v1/alarms`, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as { alarms: Array<{ id: string; hostname: string }> }).alarms;
}

test.serial("swact both ways with 5 hosts in service: each side takes over, no host leaves unlocked-enabled-available, no host command is sent", async (t) => {
  t.timeout(240_000);
  const pair = await startPair(t);
  let a = await activeIndex(pair);
  const before = states(await settled(pair, a));
  t.true(
    Object.values(before).every((s) => s === "unlocked-enabled-available"),
    JSON.stringify(before),
  );
  for (const round of [1, 2]) {
    const b = 1 - a;
    await commandsQuiet(pair);
    const from = Date.now();
    const r = await patch(pair, a, `controller-${a}`, "swact");
    t.true(r.status < 300, `round ${round}: swact refused: ${JSON.stringify(r.body)}`);
    let view: AgentHaView | undefined;
    await pair.waitFor(
      `round ${round}: controller-${b} leads`,
      async () => {
        view = await pair.agents[b]?.ha();
        return view?.acting === true;
      },
      60_000,
    );
    t.is(await activeIndex(pair), b, `round ${round}: exactly one active`);
    const old = await pair.agents[a]?.ha();
    t.true(
      old?.history.some((e) => e.kind === "resigned" && e.at >= from - 1000),
      `round ${round}: the old active resigned: ${JSON.stringify(old?.history)}`,
    );
    const after = await settled(pair, b);
    t.deepEqual(states(after), before, `round ${round}: every host keeps its state`);
    // On failure: every command of the run, in ms relative to the swact, with its sender.
    const all = pair.actions().map((c) => `${c.at - from} ${c.from} ${c.cmd} ${c.host}`);
    t.deepEqual(pair.actions(from), [], `round ${round}: no command because of the swact of controller-${a}: ${all.join("; ")}`);
    a = b;
  }
});

test.serial(
  "a lock acknowledged just before the active dies is carried out by the new one; its alarm and the alarm history survive the next failover in etcd",
  async (t) => {
    t.timeout(240_000);
    const pair = await startPair(t);
    const a = await activeIndex(pair);
    const b = 1 - a;
    await settled(pair, a);
    await commandsQuiet(pair);
    // Accepted (202) means committed to etcd; the agent dies before it could finish the lock (the host never answers
    // the host-services stop, so the lock waits on it for the command-response time).
    const lock = await patch(pair, a, "worker-1", "lock");
    t.is(lock.status, 202, JSON.stringify(lock.body));
    await pair.agents[a]?.kill();
    const killedAt = Date.now();
    await pair.waitFor("the standby leads", async () => (await pair.agents[b]?.ha())?.acting === true, 60_000);
    const hosts = await settled(pair, b);
    const w1 = hosts.find((h) => h.hostname === "worker-1");
    t.is(w1?.administrative, "locked", JSON.stringify(w1));
    t.is(w1?.operational, "disabled");
    // The new active carried the lock out: the commands worker-1 got after the kill came from controller-b's agent.
    const sent = pair.actions(killedAt);
    t.true(
      sent.some((c) => c.host === "worker-1" && c.from === agentAddress(b)),
      JSON.stringify(sent),
    );
    t.deepEqual(
      sent.filter((c) => c.host !== "worker-1"),
      [],
      "no other host got a command",
    );
    t.deepEqual(
      sent.filter((c) => c.from !== agentAddress(b)),
      [],
    );
    for (const h of hosts.filter((x) => x.hostname !== "worker-1")) t.is(states([h])[h.hostname], "unlocked-enabled-available", h.hostname);
    // The lock's alarm (200.001) is raised by the new active and is in etcd: after the next failover it is still active.
    await pair.waitFor("200.001 for worker-1 on the new active", async () =>
      (await alarms(pair, b)).some((x) => x.id === "200.001" && x.hostname === "worker-1"),
    );
    pair.agents[a]?.revive();
    await pair.waitFor("the revived agent is standby", async () => (await pair.agents[a]?.ha())?.role === "standby", 120_000);
    // A standby's alarm list is the cluster's (mirrored from etcd), not the table it had when it was killed.
    await pair.waitFor("200.001 for worker-1 on the standby's /v1/alarms", async () =>
      (await alarms(pair, a)).some((x) => x.id === "200.001" && x.hostname === "worker-1"),
    );
    await pair.agents[b]?.kill();
    await pair.waitFor("the revived agent leads", async () => (await pair.agents[a]?.ha())?.acting === true, 60_000);
    t.true(
      (await alarms(pair, a)).some((x) => x.id === "200.001" && x.hostname === "worker-1"),
      "the active alarm survived the failover",
    );
    // The alarm history is in etcd (written by whichever agent led), readable by anyone with the prefix.
    const etcd = createEtcdClient(storeSchema.parse({ kind: "etcd", endpoints: pair.etcd.endpoints, prefix: pair.prefix }));
    try {
      const history = await new EtcdInventoryStore(etcd, pair.prefix).readHistory();
      t.true(
        history.some((r) => r.id === "200.001" && r.hostname === "worker-1" && r.operation === "set"),
        JSON.stringify(history.map((r) => [r.id, r.hostname, r.operation])),
      );
    } finally {
      etcd.close();
    }
  },
);
