import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MtcAgent } from "../agent/mtc-agent.js";
import type { HeartbeatEvent, HostMessage } from "../agent/ports.js";
import type { AgentFeedObserver } from "./agent-feed.js";
import type { EventBus } from "./event-bus.js";

/**
 * The agent's Prometheus metrics (`GET /metrics`, text exposition 0.0.4) on prom-client, in a registry of its
 * own. Every label takes values from a closed set — host states, alarm ids of the catalog and severities,
 * heartbeat networks and event kinds, handler and stage names, BMC protocols — never host or sensor names, so
 * the series count does not grow with the fleet.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  /** Feed these to `feedAgentEvents` so heartbeat, mtcAlive and stage durations are counted. */
  readonly observer: AgentFeedObserver;
  private readonly storeWrite: Histogram<string>;

  constructor(agent: MtcAgent, bus?: EventBus) {
    const registers = [this.registry];
    new Gauge({
      name: "metal_hosts",
      help: "Hosts by administrative, operational and availability state",
      labelNames: ["administrative", "operational", "availability"],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const c of agent.scheduler.hosts.values()) {
          const k = `${c.rec.administrative}\0${c.rec.operational}\0${c.rec.availability}`;
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        for (const [k, n] of counts) {
          const [administrative, operational, availability] = k.split("\0");
          this.set({ administrative, operational, availability }, n);
        }
      },
    });
    new Gauge({
      name: "metal_alarms_active",
      help: "Active alarms by alarm id and severity",
      labelNames: ["alarm_id", "severity"],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const a of agent.alarms.active()) counts.set(`${a.id}\0${a.severity}`, (counts.get(`${a.id}\0${a.severity}`) ?? 0) + 1);
        for (const [k, n] of counts) {
          const [alarm_id, severity] = k.split("\0");
          this.set({ alarm_id, severity }, n);
        }
      },
    });
    new Gauge({
      name: "metal_state_write_failing",
      help: "1 while writes of the agent's state fail (target: hosts, alarms, history; code: STORE_NO_SPACE for a full disk, STORE_IO); absent when they work",
      labelNames: ["target", "code"],
      registers,
      collect() {
        this.reset();
        for (const f of agent.writes.faults()) this.set({ target: f.target, code: f.code }, 1);
      },
    });
    const hb = new Counter({
      name: "metal_heartbeat_events_total",
      help: "hbsAgent heartbeat events by network and kind (minorSet/degradeSet are misses past the thresholds, loss is a heartbeat loss)",
      labelNames: ["network", "kind"],
      registers,
    });
    const losses = new Counter({ name: "metal_heartbeat_losses_total", help: "Heartbeat losses by network", labelNames: ["network"], registers });
    const alive = new Counter({ name: "metal_mtcalive_total", help: "mtcAlive messages received, by network", labelNames: ["network"], registers });
    const stage = new Histogram({
      name: "metal_fsm_stage_duration_seconds",
      help: "Time hosts spent in each FSM stage (agent clock), by handler and stage",
      labelNames: ["handler", "stage"],
      buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1200],
      registers,
    });
    this.storeWrite = new Histogram({
      name: "metal_store_write_seconds",
      help: "Latency of durable inventory writes",
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers,
    });
    const byProtocol = (pick: (m: { calls: number; failed: number; latencyMsTotal: number }) => number) => {
      const out = new Map<string, number>();
      for (const { key, broker } of agent.brokers()) {
        const protocol = key.slice(0, key.indexOf("|"));
        out.set(protocol, (out.get(protocol) ?? 0) + pick(broker.metrics));
      }
      return out;
    };
    new Counter({
      name: "metal_bmc_calls_total",
      help: "BMC calls through the brokers, by protocol",
      labelNames: ["protocol"],
      registers,
      collect() {
        this.reset();
        for (const [protocol, n] of byProtocol((m) => m.calls)) this.inc({ protocol }, n);
      },
    });
    new Counter({
      name: "metal_bmc_call_errors_total",
      help: "BMC calls that failed, by protocol",
      labelNames: ["protocol"],
      registers,
      collect() {
        this.reset();
        for (const [protocol, n] of byProtocol((m) => m.failed)) this.inc({ protocol }, n);
      },
    });
    new Counter({
      name: "metal_bmc_call_latency_seconds_total",
      help: "Summed latency of completed BMC calls, by protocol (divide by metal_bmc_calls_total for the mean)",
      labelNames: ["protocol"],
      registers,
      collect() {
        this.reset();
        for (const [protocol, ms] of byProtocol((m) => m.latencyMsTotal)) this.inc({ protocol }, ms / 1000);
      },
    });
    if (bus)
      new Gauge({
        name: "metal_event_subscribers",
        help: "Clients following /v1/events",
        registers,
        collect() {
          this.set(bus.subscribers);
        },
      });
    this.observer = {
      heartbeat: (e: HeartbeatEvent) => {
        hb.inc({ network: e.network, kind: e.kind });
        if (e.kind === "loss") losses.inc({ network: e.network });
      },
      message: (m: HostMessage) => {
        if (m.kind === "mtcAlive") alive.inc({ network: m.network });
      },
      stage: (handler, name, ms) => stage.observe({ handler, stage: name }, ms / 1000),
    };
    agent.storeWriteObserver = (ms) => this.storeWrite.observe(ms / 1000);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
