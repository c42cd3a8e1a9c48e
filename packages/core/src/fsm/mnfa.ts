import type { TimerHandle } from "../plugin-api/services.js";
import { SEC, Timers } from "./common.js";
import type { HostCtx, MaintenanceEnv, MnfaView } from "./host-context.js";

type Iface = "mgmt" | "clusterHost";

/**
 * Multi-node failure avoidance (reference §2.17, behaviour 10): when `mnfa.threshold` hosts are in heartbeat
 * trouble at once the fault is the network, not the hosts: stop failing hosts, back the heartbeat off, pool
 * the troubled hosts ("Graceful Recovery Wait") and recover them gracefully when it clears — or fail them all
 * when `mnfa_timeout` runs out.
 */
export class Mnfa implements MnfaView {
  active = false;
  readonly pool = new Set<string>();
  private readonly troubled: Record<Iface, Set<string>> = { mgmt: new Set(), clusterHost: new Set() };
  private timer: TimerHandle | undefined;

  constructor(private readonly env: () => MaintenanceEnv) {}

  count(iface: Iface): number {
    return this.troubled[iface].size;
  }

  /** MINOR_SET (mgmt), DEGRADE_SET or LOSS on `iface`. */
  add(c: HostCtx, iface: Iface): void {
    const env = this.env();
    if (c.locked || !["fail", "degrade"].includes(env.config.heartbeat.failureAction)) return;
    this.troubled[iface].add(c.name);
    if (this.active) {
      this.poolHost(c);
      return;
    }
    if (this.troubled[iface].size >= env.config.mnfa.threshold) this.enter(iface);
  }

  /** The host's heartbeat is good again on `iface`. */
  clear(c: HostCtx, iface: Iface): void {
    this.troubled[iface].delete(c.name);
    if (!this.active) return;
    if (c.heartbeatMinor.size === 0 && this.pool.delete(c.name)) {
      this.env().heartbeat.startHost(c.name);
      c.setAction("recovery");
    }
    const threshold = this.env().config.mnfa.threshold;
    if (this.troubled.mgmt.size < threshold && this.troubled.clusterHost.size < threshold) this.exit(false);
  }

  forget(hostname: string): void {
    this.troubled.mgmt.delete(hostname);
    this.troubled.clusterHost.delete(hostname);
    this.pool.delete(hostname);
  }

  private poolHost(c: HostCtx): void {
    if (this.pool.has(c.name) || c.rec.operational !== "enabled") return;
    this.pool.add(c.name);
    c.mnfaGracefulRecovery = true;
    c.setTask("Graceful Recovery Wait");
  }

  private enter(iface: Iface): void {
    const env = this.env();
    this.active = true;
    env.heartbeat.backoff();
    for (const h of env.hosts()) if (this.troubled.mgmt.has(h.name) || this.troubled.clusterHost.has(h.name)) this.poolHost(h);
    env.alarms.log("200.020", env.self, `MNFA enter: ${this.troubled[iface].size} hosts lost heartbeat on ${iface}`);
    env.log.warn({ iface, hosts: [...this.pool] }, "multi-node failure avoidance: enter");
    const timeout = env.config.timeouts.mnfa;
    if (timeout > 0) this.timer = env.clock.setTimeout(() => this.exit(true), timeout * SEC);
  }

  /** Leave MNFA: gracefully recover the pool, or (timeout) fail every pooled host into a full enable. */
  exit(timedOut: boolean): void {
    if (!this.active) return;
    const env = this.env();
    this.active = false;
    env.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const name of this.pool) {
      const c = env.host(name);
      if (!c) continue;
      if (timedOut) {
        c.mnfaGracefulRecovery = false;
        c.raise({ id: "200.004", severity: "critical", text: `${c.name} failed: multi-node failure avoidance timeout` });
        c.setState({ oper: "disabled", avail: "failed" });
        c.setTask("");
        c.setAction("enable");
      } else {
        c.setAction("recovery");
      }
    }
    this.pool.clear();
    if (timedOut) {
      this.troubled.mgmt.clear();
      this.troubled.clusterHost.clear();
    }
    env.alarms.log("200.020", env.self, timedOut ? "MNFA exit: timeout, pooled hosts failed" : "MNFA exit");
    env.log.warn({ timedOut }, "multi-node failure avoidance: exit");
    env.clock.setTimeout(() => env.heartbeat.recover(), Timers.mnfaRecovery);
  }
}
