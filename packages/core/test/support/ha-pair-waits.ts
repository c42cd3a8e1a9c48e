import type { AgentHaView } from "../../src/lab/agent-process.js";
import { HaPair } from "../../src/lab/ha-pair.js";

/** A pair with `workers` workers in service (lease TTL `ttlS`), stopped at the test's teardown. */
export async function startPair(t: { teardown(fn: () => Promise<void>): void }, ttlS: number, workers = 5): Promise<HaPair> {
  const pair = await HaPair.start({ workers, leaseTtlS: ttlS });
  t.teardown(() => pair.stop());
  return pair;
}

/** The index of the one acting agent (waits, bounded by `limitMs`, for there to be exactly one). */
export async function activeIndex(pair: HaPair, limitMs = 60_000): Promise<number> {
  let a: number | undefined;
  await pair.waitFor(
    "one active agent",
    async () => {
      a = await pair.activeIndex();
      return a !== undefined;
    },
    limitMs,
  );
  return a as number;
}

/** Poll agent `i`'s `GET /v1/ha` (bounded by `limitMs`) until `pred` holds; returns that view. */
export async function waitView(pair: HaPair, i: number, what: string, pred: (v: AgentHaView) => boolean, limitMs = 60_000): Promise<AgentHaView> {
  let view: AgentHaView | undefined;
  await pair.waitFor(
    what,
    async () => {
      const v = await pair.agents[i]?.ha();
      if (v && pred(v)) view = v;
      return view !== undefined;
    },
    limitMs,
  );
  return view as AgentHaView;
}

export type PairHost = Record<string, unknown> & { hostname: string };

/** Agent `i`'s hosts once every one is settled (no handler, no action); bounded by `limitMs`. */
export async function settledHosts(pair: HaPair, i: number, limitMs = 90_000): Promise<PairHost[]> {
  let hosts: PairHost[] = [];
  await pair.waitFor(
    `controller-${i} settles every host`,
    async () => {
      const h = await pair.agents[i]?.hosts();
      if (!h || h.length !== pair.hostnames.length || h.some((x) => x.handler !== undefined || x.action !== "none")) return false;
      hosts = h;
      return true;
    },
    limitMs,
  );
  return hosts;
}

/** hostname → "administrative-operational-availability". */
export const pairStates = (hosts: PairHost[]): Record<string, string> =>
  Object.fromEntries(hosts.map((h) => [h.hostname, `${h.administrative}-${h.operational}-${h.availability}`]));

/**
 * Wait (bounded by `limitMs`) until no host has received a maintenance command for `quietMs`: the cold start's
 * host-services restarts are over, so what comes after is what the step under test caused.
 */
export async function commandsQuiet(pair: HaPair, quietMs = 3000, limitMs = 60_000): Promise<void> {
  await pair.waitFor(
    `no host command for ${quietMs} ms`,
    () => {
      const last = pair.actions().at(-1)?.at ?? 0;
      return Date.now() - last >= quietMs;
    },
    limitMs,
  );
}
