import type { ServiceManager, SmQueryResult } from "../fsm/service-manager.js";
import type { Logger } from "../plugin-api/services.js";

/** What the SM port needs from the controller pair. */
export interface PairLeadership {
  readonly hostname: string;
  /** This agent leads (its lease is alive). */
  leads(): boolean;
  /** Step down so the standby takes over; false when this agent does not lead. */
  resign(reason: string): boolean;
}

/**
 * The ServiceManager port on the etcd pair (issue 12, reference §2.14): "services active on X" means X's mtcAgent holds
 * the leadership; a swact of the active controller makes its agent resign, and the standby, which watches the leader
 * key, campaigns and takes over. Lock/unlock notifications have no SM to go to: they are logged.
 * Errors: `swact` of a controller that is not this (active) one rejects with code `SM_NOT_ACTIVE`.
 */
export class EtcdServiceManager implements ServiceManager {
  constructor(
    private readonly pair: PairLeadership,
    private readonly log: Logger,
  ) {}

  async notify(hostname: string, op: "locked" | "unlocked" | "disabled" | "enabled"): Promise<void> {
    this.log.debug({ host: hostname, op }, "sm notify (controller pair on etcd: nothing to forward)");
  }

  async query(hostname: string): Promise<SmQueryResult> {
    return { activeServices: hostname === this.pair.hostname && this.pair.leads() };
  }

  async swact(hostname: string): Promise<void> {
    if (hostname !== this.pair.hostname || !this.pair.resign(`swact of ${hostname} requested`)) {
      throw Object.assign(new Error(`${hostname} is not the active controller here; cannot swact it`), { code: "SM_NOT_ACTIVE" });
    }
  }
}
