import type { BmcBrokerPool } from "../bmc/broker-pool.js";
import type { LearnedProtocol, LearnResult } from "../bmc/learn.js";
import { secretFromFile } from "../di/secret.js";
import type { BmcAccess } from "../fsm/host-context.js";
import type { HostRecord } from "../inventory/store.js";
import type { BmcDriver, BmcRegistry } from "../plugin-api/bmc.js";
import type { Secret } from "../plugin-api/secret.js";
import type { Logger } from "../plugin-api/services.js";

/** What a cached driver was made from: a change of any of these makes a new driver. */
export function provisioningKey(host: HostRecord): string {
  const b = host.bmc;
  return b ? `${b.type}|${b.address}|${b.port ?? ""}|${b.username}|${b.secretRef ?? ""}` : "";
}

/**
 * A host's BMC through the plugin contract (reference §6.1): provisioned when its type is a protocol some
 * plugin provides and address, username and secret are set. Drivers are cached per provisioning.
 */
export class RegistryBmcAccess implements BmcAccess {
  /** Per host: the provisioning key, the driver handed out, and the plugin's own driver behind the broker. */
  private readonly cache = new Map<string, { key: string; driver: BmcDriver | undefined; raw?: BmcDriver }>();

  constructor(
    private readonly registry: BmcRegistry,
    private readonly log: Logger,
    private readonly resolveSecret: (ref: string) => Secret = secretFromFile,
    /** When given, every driver is the BMC's broker (rate limit, one session, circuit breaker), shared in-process. */
    private readonly pool?: BmcBrokerPool,
  ) {}

  driverFor(host: HostRecord): BmcDriver | undefined {
    const key = provisioningKey(host);
    const hit = this.cache.get(host.hostname);
    if (hit && hit.key === key) return hit.driver;
    // Brokers belong to the pool (other users may share them); plain drivers are ours to close.
    if (hit?.driver && !this.pool) void hit.driver.close();
    const b = host.bmc;
    let driver: BmcDriver | undefined;
    let raw: BmcDriver | undefined;
    // bm_type "bmc" is the reference's name for a BMC whose protocol is learned (reference §6.1): "dynamic".
    const protocol = b?.type === "bmc" ? "dynamic" : b?.type;
    if (b?.secretRef && b.address && b.username && protocol && this.registry.has(protocol)) {
      try {
        const target = {
          host: host.hostname,
          address: b.address,
          ...(b.port ? { port: b.port } : {}),
          username: b.username,
          password: this.resolveSecret(b.secretRef),
          // A protocol learned earlier and kept with the host skips learning.
          ...(b.learned ? { options: { learned: b.learned } } : {}),
        };
        if (!this.registry.get(protocol).capabilities.includes("power")) throw new Error(`BMC protocol '${protocol}' lacks capability 'power'`);
        const broker = this.pool?.get(protocol, target);
        raw = broker ? broker.inner : this.registry.connect(protocol, target, ["power"]);
        driver = broker ? broker.driver : raw;
      } catch (err) {
        this.log.warn({ host: host.hostname, err: (err as Error).message }, "BMC not usable");
      }
    }
    this.cache.set(host.hostname, { key, driver, ...(raw ? { raw } : {}) });
    return driver;
  }

  /**
   * The protocol a bm_type dynamic driver learned for this host's current provisioning (reference §6.1), once it
   * has; undefined before, and for fixed protocols.
   */
  learnedProtocol(host: HostRecord): LearnedProtocol | undefined {
    const hit = this.cache.get(host.hostname);
    if (!hit?.raw || hit.key !== provisioningKey(host)) return undefined;
    const p = (hit.raw as { learned?: LearnResult }).learned?.protocol;
    return p === "redfish" || p === "ipmi" ? p : undefined;
  }

  forget(hostname: string): void {
    const hit = this.cache.get(hostname);
    if (hit?.driver && !this.pool) void hit.driver.close();
    this.cache.delete(hostname);
  }
}
