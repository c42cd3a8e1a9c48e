import type { BmcCapability, BmcDriver, BmcErrorCode } from "../plugin-api/bmc.js";
import { BmcError, isBmcError } from "../plugin-api/bmc.js";
import type { Clock, Logger } from "../plugin-api/services.js";

export interface BrokerSettings {
  /** Token bucket: sustained calls per second and the burst the bucket holds. */
  ratePerSec: number;
  burst: number;
  /** Calls in flight to this BMC at once. */
  maxConcurrent: number;
  /** Consecutive access failures (unreachable/timeout/busy) that open the circuit. */
  breakerThreshold: number;
  /** Milliseconds an open circuit refuses calls before it lets one trial call through. */
  breakerOpenMs: number;
}

export type BreakerState = "closed" | "open" | "half-open";

export interface BrokerMetrics {
  calls: number;
  ok: number;
  failed: number;
  /** Refused by the open circuit without touching the BMC. */
  rejected: number;
  /** Calls that waited for a rate-limit token. */
  throttled: number;
  inFlight: number;
  maxInFlight: number;
  breaker: BreakerState;
  failuresByCode: Partial<Record<BmcErrorCode | "other", number>>;
  callsByCapability: Partial<Record<BmcCapability, number>>;
  /** Latency of completed calls, ms. */
  latencyMsTotal: number;
  latencyMsMax: number;
}

/** Faults that say "the BMC is not answering well"; a wrong password or an unsupported call does not trip the breaker. */
const ACCESS_FAULTS: ReadonlySet<BmcErrorCode> = new Set(["unreachable", "timeout", "busy"]);

/**
 * The one gate to one BMC (peers.md (b).1): every caller (power, sensors, console, audits) goes through it.
 * It owns the single driver (so one session), applies a token-bucket rate limit and a concurrency cap,
 * opens a circuit after consecutive access failures, and counts everything. All waiting uses the Clock.
 */
export class BmcBroker {
  readonly metrics: BrokerMetrics = {
    calls: 0,
    ok: 0,
    failed: 0,
    rejected: 0,
    throttled: 0,
    inFlight: 0,
    maxInFlight: 0,
    breaker: "closed",
    failuresByCode: {},
    callsByCapability: {},
    latencyMsTotal: 0,
    latencyMsMax: 0,
  };
  private tokens: number;
  private refilledAt: number;
  private consecutiveFailures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private readonly waiters: Array<() => void> = [];
  private closed = false;
  /** The driver seen through the broker: same contract, every call gated. */
  readonly driver: BmcDriver;

  constructor(
    readonly host: string,
    /** The driver behind the gate (read only for what it learned, e.g. a dynamic BMC's protocol). */
    readonly inner: BmcDriver,
    private readonly settings: BrokerSettings,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.tokens = settings.burst;
    this.refilledAt = clock.now();
    this.driver = this.wrap();
  }

  get breakerState(): BreakerState {
    return this.metrics.breaker;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.settings.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.settings.ratePerSec);
    this.refilledAt = now;
  }

  private async takeToken(): Promise<void> {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return;
    }
    this.metrics.throttled++;
    for (let i = 0; i < 10_000 && this.tokens < 1; i++) {
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.settings.ratePerSec) * 1000));
      this.refill();
    }
    this.tokens -= 1;
  }

  private async acquireSlot(): Promise<void> {
    while (this.metrics.inFlight >= this.settings.maxConcurrent) await new Promise<void>((r) => this.waiters.push(r));
    this.metrics.inFlight++;
    this.metrics.maxInFlight = Math.max(this.metrics.maxInFlight, this.metrics.inFlight);
  }

  private releaseSlot(): void {
    this.metrics.inFlight--;
    this.waiters.shift()?.();
  }

  /** Refuse at once while the circuit is open; after breakerOpenMs let exactly one trial call through. */
  private admit(): boolean {
    if (this.metrics.breaker === "closed") return true;
    if (this.metrics.breaker === "open" && this.clock.now() - this.openedAt >= this.settings.breakerOpenMs) this.metrics.breaker = "half-open";
    if (this.metrics.breaker === "half-open" && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  private record(ok: boolean, err?: unknown): void {
    if (this.trialInFlight) this.trialInFlight = false;
    if (ok) {
      this.metrics.ok++;
      this.consecutiveFailures = 0;
      if (this.metrics.breaker !== "closed") this.logger?.info({ host: this.host }, "BMC answers again; circuit closed");
      this.metrics.breaker = "closed";
      return;
    }
    this.metrics.failed++;
    // By code, not class: a plugin bundling its own copy of @metal/core throws its own BmcError.
    const code = isBmcError(err) ? err.code : "other";
    this.metrics.failuresByCode[code] = (this.metrics.failuresByCode[code] ?? 0) + 1;
    if (!isBmcError(err) || !ACCESS_FAULTS.has(err.code)) return;
    this.consecutiveFailures++;
    if (this.metrics.breaker === "half-open" || this.consecutiveFailures >= this.settings.breakerThreshold) {
      if (this.metrics.breaker !== "open") this.logger?.warn({ host: this.host, failures: this.consecutiveFailures }, "BMC access failing; circuit open");
      this.metrics.breaker = "open";
      this.openedAt = this.clock.now();
    }
  }

  /** Run one BMC call under the rate limit, the concurrency cap and the breaker. */
  async call<T>(capability: BmcCapability, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new BmcError("protocol", "the BMC broker is closed", this.host);
    this.metrics.calls++;
    this.metrics.callsByCapability[capability] = (this.metrics.callsByCapability[capability] ?? 0) + 1;
    if (!this.admit()) {
      this.metrics.rejected++;
      throw new BmcError(
        "unreachable",
        `BMC of ${this.host} is failing (circuit open after ${this.consecutiveFailures} access failures); not calling it`,
        this.host,
      );
    }
    await this.takeToken();
    await this.acquireSlot();
    const t0 = this.clock.now();
    try {
      const result = await fn();
      this.record(true);
      return result;
    } catch (err) {
      this.record(false, err);
      throw err;
    } finally {
      const ms = this.clock.now() - t0;
      this.metrics.latencyMsTotal += ms;
      this.metrics.latencyMsMax = Math.max(this.metrics.latencyMsMax, ms);
      this.releaseSlot();
    }
  }

  private wrap(): BmcDriver {
    const d = this.inner;
    const gate =
      <A extends unknown[], R>(cap: BmcCapability, f: (...a: A) => Promise<R>) =>
      (...a: A) =>
        this.call(cap, () => f(...a));
    return {
      protocol: d.protocol,
      supports: (cap) => d.supports(cap),
      ...(d.power ? { power: { status: gate("power", () => d.power!.status()), set: gate("power", (a) => d.power!.set(a)) } } : {}),
      ...(d.bootDevice ? { bootDevice: { set: gate("bootDevice", (dev, o) => d.bootDevice!.set(dev, o)) } } : {}),
      ...(d.info ? { info: { get: gate("info", () => d.info!.get()) } } : {}),
      ...(d.sensors ? { sensors: { read: gate("sensors", () => d.sensors!.read()) } } : {}),
      ...(d.virtualMedia
        ? {
            virtualMedia: {
              insert: gate("virtualMedia", (u: string) => d.virtualMedia!.insert(u)),
              eject: gate("virtualMedia", () => d.virtualMedia!.eject()),
              status: gate("virtualMedia", () => d.virtualMedia!.status()),
            },
          }
        : {}),
      // Opening the console is gated; the stream itself is long-lived and not a per-call cost.
      ...(d.console ? { console: { open: gate("console", () => d.console!.open()) } } : {}),
      // Subscribing is gated like any call; the subscription itself is long-lived.
      ...(d.events
        ? {
            events: {
              subscribe: gate("events", (on: Parameters<NonNullable<BmcDriver["events"]>["subscribe"]>[0], lost: (why: string) => void) =>
                d.events!.subscribe(on, lost),
              ),
            },
          }
        : {}),
      close: () => this.close(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inner.close();
  }
}
