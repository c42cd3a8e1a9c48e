import type { Etcd3 } from "etcd3";
import type { HaConfig } from "../config/ha-schema.js";
import { type EngineHost, type RunState, stepHandler } from "../fsm/engine.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { electionHandler } from "./election.js";
import { parseViewSummary, type ViewSummary } from "./view-summary.js";

/** The leader key's value: who leads and where its REST API answers. */
export interface LeaderValue {
  hostname: string;
  api?: string;
}

/** The leader as read from etcd: the key's create revision is the epoch (etcd revisions only grow). */
export interface LeaderInfo extends LeaderValue {
  epoch: number;
  lease: string;
}

/** One entry of the leadership log (`metal ha status`, the lab's `leadership` report). */
export interface LeadershipEvent {
  /** Clock ms. */
  at: number;
  hostname: string;
  kind: "elected" | "resigned" | "lost" | "standby";
  reason: string;
  epoch?: number;
  /** resigned / lost: the clock ms from which this agent no longer acted (its lease's certain validity, or now). */
  actingUntil?: number;
}

/** What leadership guards a store write with: the leader key must still carry this create revision and lease. */
export interface LeadershipGuard {
  key: string;
  createRevision: string;
  lease: string;
  epoch: number;
}

export interface LeadershipOptions {
  etcd: Etcd3;
  prefix: string;
  hostname: string;
  api?: string;
  ha: HaConfig;
  callTimeoutMs: number;
  clock: Clock;
  log: Logger;
  /** This controller's latest cluster-view summary (published under its lease, read by the peer). */
  ownView?: () => ViewSummary | undefined;
  /** Called once elected; the guard is valid from now on (takeover: load the store, resume the handlers). */
  onElected?: (guard: LeadershipGuard) => void;
  /** Called once this agent must stop acting (lease lost or expired, resigned, key gone). */
  onDeposed?: (reason: string) => void;
}

/** At most this many keepalives wait for an answer at once (a dead member or a raft election holds them). */
const KEEPALIVE_IN_FLIGHT = 4;

type Outcome<T> = { state: "pending" } | { state: "ok"; value: T } | { state: "fail"; error: string };

/** etcd key layout under the prefix. */
export const haKeys = (prefix: string) => ({
  leader: `${prefix}/ha/leader`,
  view: (h: string) => `${prefix}/ha/view/${h}`,
  views: `${prefix}/ha/view/`,
  member: (h: string) => `${prefix}/ha/member/${h}`,
  members: `${prefix}/ha/member/`,
});

/**
 * Leader election on an etcd lease (issue 12), one per mtcAgent. The machine itself is `election.ts` on the FSM engine;
 * this class is its context: the lease, the leader seen, the peer's view, and the one question the agent asks before
 * any action, `mayAct()`: leader, and the lease certainly still alive by this clock (the last keepalive that etcd
 * answered was *sent* less than the TTL ago). So an agent that was paused, partitioned or cut from quorum stops acting
 * by its own clock within the TTL, before anyone else can have been elected.
 */
export class Leadership implements EngineHost {
  run?: RunState;
  readonly keys: ReturnType<typeof haKeys>;
  /** The lease this agent holds (decimal string), once granted. */
  lease: string | undefined;
  /** Clock ms until which the lease is certainly alive. */
  validUntil = 0;
  /** Set while this agent leads. */
  guard: LeadershipGuard | undefined;
  /** The leader last read from etcd (undefined: none, or not read yet). */
  leader: LeaderInfo | undefined;
  leaderReadAt = 0;
  /** When a peer was last seen leading (a takeover shortly after is a failover, not a cold start). */
  peerLeaderSeenAt = Number.NEGATIVE_INFINITY;
  /** Live members and their published views, as last read. */
  peerViews = new Map<string, ViewSummary>();
  members: Array<{ hostname: string; api?: string }> = [];
  /** Why this agent is not acting (quorum loss, lease lost, resigned...), for ha status. */
  reason = "starting";
  /** The last etcd error seen (ha status). */
  lastError: string | undefined;
  readonly history: LeadershipEvent[] = [];
  /** Scratch of the current stage run. */
  vars: Record<string, unknown> = {};
  /** An operator's swact (or the split-brain rule) asked this leader to step down. */
  resignRequested: string | undefined;
  /** Why the leader machine is going to LOST (kept across the stage change). */
  lostReason: string | undefined;
  /** Do not campaign before this clock ms (after resigning). */
  holdUntil = 0;
  private readonly launches = new Map<string, { seq: number; o: Outcome<unknown> }>();
  /** Keepalives sent and not yet answered (launch keys), when the last one was sent, and their numbering. */
  private readonly kaInFlight = new Map<string, string>();
  private kaSentAt = Number.NEGATIVE_INFINITY;
  private kaSeq = 0;
  private seq = 0;
  private timer: TimerHandle | undefined;
  /**
   * The stage machine's step: TTL/30, at most 100 ms. A takeover is a chain of steps (see the leader key gone,
   * campaign, read the answer), each waiting for the next tick, so the step is what a failover adds to the lease
   * expiry (at 250 ms it added 0.5-1 s: p99 TTL + 1.5 s against the TTL + 1 s target). An observe is one small
   * range read, at most one in flight.
   */
  readonly tickMs: number;
  private stopped = false;

  constructor(readonly o: LeadershipOptions) {
    this.keys = haKeys(o.prefix);
    this.tickMs = Math.max(20, Math.min(100, (o.ha.leaseTtlS * 1000) / 30));
  }

  now(): number {
    return this.o.clock.now();
  }

  get ttlMs(): number {
    return this.o.ha.leaseTtlS * 1000;
  }

  get role(): "active" | "standby" {
    return this.guard ? "active" : "standby";
  }

  /** True only while this agent leads and its lease is certainly alive (checked before every action). */
  mayAct(): boolean {
    return this.guard !== undefined && this.now() < this.validUntil;
  }

  start(): void {
    if (this.timer) return;
    this.timer = this.o.clock.setInterval(() => this.tick(), this.tickMs);
    this.tick();
  }

  /** Step the machine once (the interval calls it; tests on a virtual clock call it too). */
  tick(): void {
    if (this.stopped) return;
    // Keepalives flow whatever the stage while a lease is held (campaigning and resigning included).
    this.keepalive();
    stepHandler(this, electionHandler);
  }

  /** Stop the machine; a leader deletes its key (guarded) and revokes its lease so the peer takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearInterval(this.timer);
    this.timer = undefined;
    const g = this.guard;
    if (g) this.depose("agent stopping", "resigned");
    if (this.lease) {
      const lease = this.lease;
      this.lease = undefined;
      await this.o.etcd.leaseClient.leaseRevoke({ ID: lease }).catch(() => undefined);
    }
  }

  /** Ask the leader to resign (swact); the standby then campaigns. */
  resign(reason: string): boolean {
    if (!this.guard) return false;
    this.resignRequested = reason;
    return true;
  }

  onStage(_h: string, from: string, to: string): void {
    this.vars = {};
    this.o.log.debug({ from, to }, "election stage");
  }

  onError(_h: string, stage: string, err: unknown): void {
    this.o.log.error({ stage, err: (err as Error)?.message }, "election stage failed");
  }

  // --- async work polled by the stages ------------------------------------------------------------
  launch<T>(key: string, work: () => Promise<T>, limitMs = this.o.callTimeoutMs): void {
    const seq = ++this.seq;
    this.launches.set(key, { seq, o: { state: "pending" } });
    const settle = (o: Outcome<unknown>) => {
      if (this.launches.get(key)?.seq === seq) this.launches.set(key, { seq, o });
    };
    let p: Promise<T>;
    try {
      p = work();
    } catch (err) {
      settle({ state: "fail", error: (err as Error).message });
      return;
    }
    // Every call is bounded: a stream call (keepalive) has no gRPC deadline, so time it out here too.
    const limit = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`etcd call timed out after ${limitMs} ms`)), limitMs).unref());
    Promise.race([p, limit]).then(
      (value) => settle({ state: "ok", value }),
      (err: unknown) => {
        const m = (err as Error)?.message ?? String(err);
        this.lastError = m;
        settle({ state: "fail", error: m });
      },
    );
  }

  outcome<T>(key: string): Outcome<T> | undefined {
    return this.launches.get(key)?.o as Outcome<T> | undefined;
  }

  forget(key: string): void {
    this.launches.delete(key);
  }

  /**
   * Keepalives as a pipeline: one is sent every TTL/6 even while earlier ones are still unanswered (at most
   * `KEEPALIVE_IN_FLIGHT`), each bounded by the TTL (a later answer could not extend anything). An answer with TTL > 0
   * makes the lease certainly alive until that keepalive's send time + TTL; TTL 0 means the lease is gone. So when the
   * etcd member that holds a keepalive dies, or the raft leader dies and the survivors elect a new one (1-2 s with
   * etcd's default 1 s election timeout), the keepalives sent meanwhile are answered as soon as etcd has a leader again,
   * and a leader keeps its lease through the loss of any one member.
   */
  keepalive(): void {
    const lease = this.lease;
    if (!lease) return;
    for (const [key, forLease] of [...this.kaInFlight]) {
      const o = this.outcome<{ ttl: number; sentAt: number }>(key);
      if (o?.state === "pending" && forLease === lease) continue;
      this.kaInFlight.delete(key);
      this.forget(key);
      // An answer about a lease this agent no longer holds (lost, then a new one granted) says nothing about this one.
      if (o?.state === "ok" && forLease === lease) {
        if (o.value.ttl > 0) this.validUntil = Math.max(this.validUntil, o.value.sentAt + this.ttlMs);
        else this.validUntil = 0;
      }
    }
    if (this.now() - this.kaSentAt < this.ttlMs / 6 || this.kaInFlight.size >= KEEPALIVE_IN_FLIGHT) return;
    const sentAt = this.now();
    this.kaSentAt = sentAt;
    const key = `ka:${++this.kaSeq}`;
    this.kaInFlight.set(key, lease);
    this.launch(
      key,
      async () => {
        const res = await keepaliveOnce(this.o.etcd, lease);
        return { ttl: res, sentAt };
      },
      this.ttlMs,
    );
  }

  /** Read the leader key and the members' published views (standby and leader both). */
  observe(): void {
    const o = this.outcome<{
      leader: LeaderInfo | undefined;
      views: Map<string, ViewSummary>;
      members: Array<{ hostname: string; api?: string }>;
      launchedAt: number;
    }>("observe");
    if (o?.state === "pending") return;
    if (o?.state === "ok") {
      this.leader = o.value.leader;
      // A read counts from when it was launched: one begun before an election must not contradict it.
      this.leaderReadAt = o.value.launchedAt;
      if (this.leader && this.leader.hostname !== this.o.hostname) this.peerLeaderSeenAt = this.now();
      this.peerViews = o.value.views;
      this.members = o.value.members;
    }
    if (o) this.forget("observe");
    const launchedAt = this.now();
    this.launch("observe", async () => ({ ...(await this.readCluster()), launchedAt }));
  }

  /** Publish this agent's member entry and cluster-view summary under its lease (every `viewPublishS`). */
  publish(): void {
    const lease = this.lease;
    if (!lease) return;
    const last = (this.vars.pubAt as number | undefined) ?? Number.NEGATIVE_INFINITY;
    if (this.now() - last < this.o.ha.viewPublishS * 1000 || this.outcome("pub")?.state === "pending") return;
    this.vars.pubAt = this.now();
    const view = this.o.ownView?.();
    const member = JSON.stringify({ hostname: this.o.hostname, ...(this.o.api ? { api: this.o.api } : {}) });
    this.launch("pub", async () => {
      const etcd = this.o.etcd;
      await Promise.all([
        etcd.put(this.keys.member(this.o.hostname)).value(member).lease(lease).exec(),
        ...(view ? [etcd.put(this.keys.view(this.o.hostname)).value(JSON.stringify(view)).lease(lease).exec()] : []),
      ]);
    });
  }

  private async readCluster(): Promise<{
    leader: LeaderInfo | undefined;
    views: Map<string, ViewSummary>;
    members: Array<{ hostname: string; api?: string }>;
  }> {
    const etcd = this.o.etcd;
    const [leaderRes, viewsRes, membersRes] = await Promise.all([
      etcd.get(this.keys.leader).exec(),
      etcd.getAll().prefix(this.keys.views).exec(),
      etcd.getAll().prefix(this.keys.members).exec(),
    ]);
    const kv = leaderRes.kvs[0];
    let leader: LeaderInfo | undefined;
    if (kv) {
      let v: Partial<LeaderValue> = {};
      try {
        v = JSON.parse(kv.value.toString("utf8")) as Partial<LeaderValue>;
      } catch {
        // A leader key that is not ours to read still names a leader: keep its revision as the epoch.
      }
      leader = {
        hostname: typeof v.hostname === "string" ? v.hostname : "?",
        ...(typeof v.api === "string" ? { api: v.api } : {}),
        epoch: Number(kv.create_revision),
        lease: kv.lease,
      };
    }
    const views = new Map<string, ViewSummary>();
    for (const x of viewsRes.kvs) {
      const s = parseViewSummary(x.value.toString("utf8"));
      if (s) views.set(s.hostname, s);
    }
    const members: Array<{ hostname: string; api?: string }> = [];
    for (const x of membersRes.kvs) {
      try {
        const m = JSON.parse(x.value.toString("utf8")) as { hostname?: unknown; api?: unknown };
        if (typeof m.hostname === "string") members.push({ hostname: m.hostname, ...(typeof m.api === "string" ? { api: m.api } : {}) });
      } catch {
        // not a member entry of ours
      }
    }
    return { leader, views, members: members.sort((a, b) => a.hostname.localeCompare(b.hostname)) };
  }

  /** Record an election and hand the guard to the agent. */
  elected(guard: LeadershipGuard): void {
    this.guard = guard;
    this.reason = "leading";
    this.resignRequested = undefined;
    this.history.push({ at: this.now(), hostname: this.o.hostname, kind: "elected", reason: "won the election", epoch: guard.epoch });
    this.o.log.warn({ epoch: guard.epoch, lease: guard.lease }, "elected: this mtcAgent is active");
    this.o.onElected?.(guard);
  }

  /** Stop acting: drop the guard first (no further write can pass), then tell the agent and the log why. */
  depose(reason: string, kind: "resigned" | "lost"): void {
    const g = this.guard;
    this.guard = undefined;
    this.reason = reason;
    if (!g) return;
    const actingUntil = Math.min(this.now(), this.validUntil);
    this.history.push({ at: this.now(), hostname: this.o.hostname, kind, reason, epoch: g.epoch, actingUntil });
    this.o.log.warn({ epoch: g.epoch, reason }, kind === "resigned" ? "resigned: this mtcAgent is standby" : "leadership lost: this mtcAgent stops acting");
    this.o.onDeposed?.(reason);
  }

  /** A standby note in the history (first standby, or after a loss), without repeating itself. */
  noteStandby(reason: string): void {
    const last = this.history[this.history.length - 1];
    if (last?.kind === "standby" && last.reason === reason) return;
    this.history.push({ at: this.now(), hostname: this.o.hostname, kind: "standby", reason });
  }
}

/** One keepalive for `lease`; resolves with the TTL etcd answered (0: the lease is gone). */
async function keepaliveOnce(etcd: Etcd3, lease: string): Promise<number> {
  const stream = await etcd.leaseClient.leaseKeepAlive();
  try {
    return await new Promise<number>((resolve, reject) => {
      stream.on("data", (res: { TTL: string }) => resolve(Number(res.TTL)));
      stream.on("error", (err: Error) => reject(err));
      stream.write({ ID: lease });
    });
  } finally {
    stream.end();
  }
}
