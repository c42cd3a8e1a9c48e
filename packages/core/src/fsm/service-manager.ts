/**
 * The ServiceManager (SM) port: what maintenance asks of SM on controllers (reference §1.3, §2.14):
 * lock/unlock/enable/disable notifications, "are services active here", and swact.
 */
export type SmOperation = "locked" | "unlocked" | "disabled" | "enabled" | "swact" | "query";

export interface SmQueryResult {
  /** The controller still runs active services. */
  activeServices: boolean;
}

export interface ServiceManager {
  notify(hostname: string, op: Exclude<SmOperation, "swact" | "query">, state: { admin: string; oper: string; avail: string }): Promise<void>;
  query(hostname: string): Promise<SmQueryResult>;
  swact(hostname: string): Promise<void>;
}

/** A ServiceManager over SM's REST API: `PATCH /v1/servicenode/<hostname>` on localhost:ha_port. */
export class HttpServiceManager implements ServiceManager {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call(hostname: string, body: Record<string, unknown>, method = "PATCH"): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.baseUrl}/v1/servicenode/${encodeURIComponent(hostname)}`, {
      method,
      headers: { "content-type": "application/json", accept: "application/json" },
      signal: AbortSignal.timeout(this.timeoutMs),
      ...(method === "GET" ? {} : { body: JSON.stringify({ origin: "mtce", hostname, ...body }) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`SM ${method} ${hostname}: HTTP ${res.status} ${text.slice(0, 200)}`);
    try {
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      throw new Error(`SM ${method} ${hostname}: response is not JSON`);
    }
  }

  async notify(hostname: string, op: "locked" | "unlocked" | "disabled" | "enabled", s: { admin: string; oper: string; avail: string }): Promise<void> {
    const action = op === "locked" ? "lock" : op === "unlocked" ? "unlock" : "event";
    await this.call(hostname, { action, admin: s.admin, oper: s.oper, avail: s.avail });
  }

  async query(hostname: string): Promise<SmQueryResult> {
    const r = await this.call(hostname, {}, "GET");
    // SM answers with the node's "state": "active" while it runs active services.
    return { activeServices: r.state === "active" || r.active_services === "yes" };
  }

  async swact(hostname: string): Promise<void> {
    await this.call(hostname, { action: "swact", admin: "unlocked", oper: "enabled", avail: "available" });
  }
}

/**
 * A simulated SM for the lab and tests: one active controller; a swact moves activity to the peer after
 * `swactMs` of the injected clock.
 */
export class SimulatedServiceManager implements ServiceManager {
  active: string | undefined;
  readonly calls: Array<{ hostname: string; op: SmOperation }> = [];
  /** Fault knobs. */
  failSwact = false;
  unreachable = false;

  constructor(
    active: string,
    private readonly peers: () => string[],
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly swactMs = 5_000,
  ) {
    this.active = active;
  }

  private check(): void {
    if (this.unreachable) throw new Error("SM unreachable");
  }

  async notify(hostname: string, op: "locked" | "unlocked" | "disabled" | "enabled"): Promise<void> {
    this.check();
    this.calls.push({ hostname, op });
  }

  async query(hostname: string): Promise<SmQueryResult> {
    this.check();
    this.calls.push({ hostname, op: "query" });
    return { activeServices: this.active === hostname };
  }

  async swact(hostname: string): Promise<void> {
    this.check();
    this.calls.push({ hostname, op: "swact" });
    if (this.failSwact) throw new Error("SM refused the swact");
    const target = this.peers().find((p) => p !== hostname);
    if (!target) throw new Error("no peer controller to swact to");
    void this.sleep(this.swactMs).then(() => {
      if (this.active === hostname) this.active = target;
    });
  }
}
