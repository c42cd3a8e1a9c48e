import type { Etcd3 } from "etcd3";
import type { MtcAgent } from "../agent/mtc-agent.js";
import type { MetalConfig } from "../config/schema.js";
import type { ServiceManager } from "../fsm/service-manager.js";
import { queryCluster } from "../heartbeat/sm-query.js";
import { EtcdInventoryStore } from "../inventory/etcd-store.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { StoreAlarmSink } from "./alarm-store-sink.js";
import { noQuorum } from "./election.js";
import { EtcdServiceManager } from "./etcd-service-manager.js";
import { Leadership, type LeadershipEvent, type LeadershipGuard } from "./leadership.js";
import { summarizeVault, type ViewSummary } from "./view-summary.js";
import { WarmCopy } from "./warm-copy.js";

/** A standby writes nothing: every commit is refused (STORE_FENCED) until this agent is elected. */
const STANDBY_GUARD = {
  name: "standby (not the active controller)",
  check: () => {
    throw new Error("this agent is standby");
  },
};

/** `metal ha status` / `GET /v1/ha`. */
export interface HaStatus {
  hostname: string;
  role: "active" | "standby";
  /** This agent runs the FSMs right now (leader, lease alive, takeover done). */
  acting: boolean;
  reason: string;
  epoch?: number;
  leader?: { hostname: string; api?: string; epoch: number };
  leaseTtlS: number;
  members: Array<{ hostname: string; api?: string }>;
  store: { kind: "etcd"; prefix: string; endpoints: Array<{ url: string; healthy: boolean }> };
  views: ViewSummary[];
  history: LeadershipEvent[];
  lastError?: string;
}

export interface HaNodeOptions {
  config: MetalConfig;
  etcd: Etcd3;
  clock: Clock;
  log: Logger;
  /** Build the agent around the store and the gate (the daemon passes its messaging, heartbeat and BMC registry). */
  makeAgent: (store: EtcdInventoryStore, gate: () => boolean, sm: ServiceManager) => MtcAgent;
  /** This controller's API, as the peer and the CLI reach it. */
  api?: string;
  /** Read this controller's heartbeat cluster view (default: the local hbsAgent's SM port, as SM does). */
  readView?: () => Promise<ViewSummary | undefined>;
}

/** Controller index from the hostname (controller-0 → 0, controller-1 → 1), as the cluster vault numbers them. */
export function controllerIndex(hostname: string): number {
  const m = /-(\d+)$/.exec(hostname);
  return m ? Number(m[1]) : 0;
}

/**
 * One controller's mtcAgent in the pair (issue 12). Standby: the agent is suspended and shows the warm copy (a watch
 * on the store prefix); the API answers reads from it and refuses mutations with the active's address. Elected: the
 * agent starts from the stored records (every host's handler resumes through the add handler's state recovery; no
 * host is re-enabled, rebooted or reset for the failover), tells the hbsAgents it is active, and writes only under its
 * leadership guard. Deposed (lease lost, quorum lost, resigned): it stops acting at once and says why.
 */
export class HaNode {
  readonly leadership: Leadership;
  readonly store: EtcdInventoryStore;
  readonly warm: WarmCopy;
  readonly agent: MtcAgent;
  private acting = false;
  private term = 0;
  private view: ViewSummary | undefined;
  private viewTimer: TimerHandle | undefined;
  private mirrorPending = false;
  private stopped = false;

  constructor(private readonly o: HaNodeOptions) {
    const cfg = o.config;
    const log = o.log.child({ ha: cfg.node.hostname });
    this.store = new EtcdInventoryStore(o.etcd, cfg.store.prefix, log);
    this.store.setGuard(STANDBY_GUARD);
    this.warm = new WarmCopy(o.etcd, cfg.store.prefix, log);
    this.leadership = new Leadership({
      etcd: o.etcd,
      prefix: cfg.store.prefix,
      hostname: cfg.node.hostname,
      ...(o.api ? { api: o.api } : {}),
      ha: cfg.ha,
      callTimeoutMs: cfg.store.callTimeoutMs,
      clock: o.clock,
      log,
      ownView: () => this.view,
      onElected: (g) => this.onElected(g),
      onDeposed: (r) => this.onDeposed(r),
    });
    const self = cfg.node.hostname;
    const sm = new EtcdServiceManager({ hostname: self, leads: () => this.leadership.mayAct(), resign: (r) => this.resign(r) }, log);
    this.agent = o.makeAgent(this.store, () => this.acting && this.leadership.mayAct(), sm);
    // Alarms live in the store too: the active writes its raises, clears and history there; a takeover loads them.
    const alarms = this.agent.alarms;
    alarms.addSink(
      new StoreAlarmSink(
        this.store,
        () => this.active,
        (r) => alarms.active().find((a) => a.id === r.id && a.hostname === r.hostname && (a.entity ?? "") === (r.entity ?? "")),
      ),
    );
    this.warm.onChange(() => this.scheduleMirror());
  }

  /** True while this agent runs the FSMs (the API's mutations are accepted only then). */
  get active(): boolean {
    return this.acting && this.leadership.mayAct();
  }

  /** Where mutations go: the leader's API (undefined when no leader is known). */
  get activeApi(): { hostname: string; api?: string } | undefined {
    const l = this.leadership.leader;
    return l ? { hostname: l.hostname, ...(l.api ? { api: l.api } : {}) } : undefined;
  }

  /** Load the warm copy (retrying until etcd answers) and join the election. */
  async start(): Promise<void> {
    this.leadership.start();
    const readView = this.o.readView ?? (() => this.readLocalView());
    const poll = () => {
      void readView().then(
        (v) => {
          this.view = v;
        },
        () => {
          this.view = undefined;
        },
      );
    };
    const tick = () => {
      poll();
      if (!this.acting) void this.mirrorAlarms();
    };
    tick();
    this.viewTimer = this.o.clock.setInterval(tick, this.o.config.ha.viewPublishS * 1000);
    void this.startWarm();
  }

  private async startWarm(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.warm.start();
        this.scheduleMirror();
        return;
      } catch (err) {
        if (attempt === 0) this.o.log.warn({ err: (err as Error).message }, "ha: cannot read the store yet; retrying");
        await this.o.clock.sleep(1000);
      }
    }
  }

  private scheduleMirror(): void {
    if (this.mirrorPending) return;
    this.mirrorPending = true;
    queueMicrotask(() => {
      this.mirrorPending = false;
      if (!this.acting) this.agent.mirror(this.warm.records());
    });
  }

  private onElected(g: LeadershipGuard): void {
    const term = ++this.term;
    // Every write from now on: this agent must still lead by its own clock, and etcd must still hold its leader key.
    this.store.setGuard({
      name: `leader ${this.o.config.node.hostname} epoch ${g.epoch}`,
      check: () => {
        if (!this.leadership.mayAct()) throw new Error("leadership lost");
      },
      fence: { key: g.key, createRevision: g.epoch },
    });
    this.acting = true;
    // A failover (a peer led moments ago and watched the hosts) or a cold start of the pair (handlers replay in full).
    const takeover = this.o.clock.now() - this.leadership.peerLeaderSeenAt < 2 * this.leadership.ttlMs + 5000;
    void this.loadAlarms()
      .then(() => this.agent.start({ takeover }))
      .then(
        () => {
          if (term !== this.term) return;
          const self = this.o.config.node.hostname;
          // A swact in progress on the old active is complete now: this controller took over.
          for (const h of this.agent.hosts()) {
            if (h.hostname !== self && h.task === "Swact: In-Progress") this.agent.ctx(h.hostname)?.setTask("Swact: Complete");
          }
          this.o.log.warn({ epoch: g.epoch, hosts: this.agent.hosts().length }, "takeover: every host resumed from the store");
          this.agent.env.heartbeat.activeController(this.o.config.node.hostname);
        },
        (err: unknown) => {
          if (term !== this.term) return;
          this.acting = false;
          this.agent.suspend();
          this.o.log.error({ err: (err as Error).message }, "takeover failed; resigning");
          this.leadership.resign(`takeover failed: ${(err as Error).message}`);
        },
      );
  }

  /** The active alarm table from the store (the previous active's), before the handlers resume. */
  private async loadAlarms(): Promise<void> {
    const { alarms } = await this.store.load();
    this.agent.alarms.replaceActive(alarms);
  }

  /**
   * A standby answers reads with the cluster's alarms, not its own stale table: the store's active-alarm table
   * (written by the active) replaces the local one when it differs. Read failures wait for the next tick.
   */
  private async mirrorAlarms(): Promise<void> {
    try {
      const { alarms } = await this.store.load();
      if (this.acting) return;
      const key = (l: readonly { id: string; hostname: string; entity?: string; severity: string }[]) =>
        JSON.stringify(l.map((a) => [a.id, a.hostname, a.entity ?? "", a.severity]).sort());
      if (key(alarms) !== key(this.agent.alarms.active())) this.agent.alarms.replaceActive(alarms);
    } catch {
      // etcd unreachable: the election reports it; the next tick tries again.
    }
  }

  private onDeposed(reason: string): void {
    this.term++;
    this.store.setGuard(STANDBY_GUARD);
    this.acting = false;
    this.agent.suspend();
    this.agent.mirror(this.warm.records());
    this.o.log.warn({ reason }, "standing down: no host command, BMC action or store write from here until elected again");
  }

  /** Ask the active (this agent) to hand over to the standby: a swact. */
  resign(reason: string): boolean {
    return this.leadership.resign(reason);
  }

  private async readLocalView(): Promise<ViewSummary | undefined> {
    const p = this.o.config.ports;
    const vault = await queryCluster({ serverPort: p.smServer, clientPort: p.smClient, timeoutMs: 1000 });
    return summarizeVault(vault, controllerIndex(this.o.config.node.hostname), this.o.config.node.hostname, Date.now());
  }

  async status(): Promise<HaStatus> {
    const l = this.leadership;
    const endpoints = await Promise.all(
      this.o.config.store.endpoints.map(async (url) => {
        try {
          const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(700) });
          return { url, healthy: ((await res.json()) as { health?: string }).health === "true" };
        } catch {
          return { url, healthy: false };
        }
      }),
    );
    const views = [...l.peerViews.values()];
    if (this.view && !l.peerViews.has(this.view.hostname)) views.push(this.view);
    return {
      hostname: this.o.config.node.hostname,
      role: this.active ? "active" : "standby",
      acting: this.active,
      reason: this.active ? "leading" : l.guard && !l.mayAct() ? noQuorum(l) : l.reason,
      ...(l.guard ? { epoch: l.guard.epoch } : {}),
      ...(l.leader ? { leader: { hostname: l.leader.hostname, ...(l.leader.api ? { api: l.leader.api } : {}), epoch: l.leader.epoch } } : {}),
      leaseTtlS: this.o.config.ha.leaseTtlS,
      members: l.members,
      store: { kind: "etcd", prefix: this.o.config.store.prefix, endpoints },
      views: views.sort((a, b) => a.hostname.localeCompare(b.hostname)),
      history: [...l.history],
      ...(l.lastError ? { lastError: l.lastError } : {}),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearInterval(this.viewTimer);
    const wasActing = this.acting;
    // Write what changed while still leading, then resign so the peer takes over at once.
    if (wasActing) await this.agent.flushNow().catch(() => undefined);
    this.acting = false;
    await this.agent.stop();
    await this.leadership.stop();
    await this.warm.stop();
  }
}
