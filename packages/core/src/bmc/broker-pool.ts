import type { MetalConfig } from "../config/schema.js";
import type { BmcRegistry, BmcTarget } from "../plugin-api/bmc.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import { BmcBroker, type BrokerSettings } from "./broker.js";

export function brokerSettings(config: MetalConfig): BrokerSettings {
  const b = config.bmc;
  return {
    ratePerSec: b.ratePerSec,
    burst: b.burst,
    maxConcurrent: b.maxConcurrent,
    breakerThreshold: b.breakerThreshold,
    breakerOpenMs: b.breakerOpen * 1000,
  };
}

/** One broker per BMC in this process, whoever asks: the same protocol, address, port and user share it. */
export class BmcBrokerPool {
  private readonly brokers = new Map<string, BmcBroker>();

  constructor(
    private readonly registry: BmcRegistry,
    private readonly settings: BrokerSettings,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  static key(protocol: string, target: BmcTarget): string {
    return `${protocol}|${target.address}|${target.port ?? ""}|${target.username}`;
  }

  get(protocol: string, target: BmcTarget): BmcBroker {
    const key = BmcBrokerPool.key(protocol, target);
    let b = this.brokers.get(key);
    if (!b) {
      b = new BmcBroker(target.host, this.registry.connect(protocol, target), this.settings, this.clock, this.logger);
      this.brokers.set(key, b);
    }
    return b;
  }

  list(): ReadonlyArray<{ key: string; broker: BmcBroker }> {
    return [...this.brokers.entries()].map(([key, broker]) => ({ key, broker }));
  }

  /** Close every broker (each logs out of its BMC). */
  async closeAll(): Promise<void> {
    const all = [...this.brokers.values()];
    this.brokers.clear();
    await Promise.allSettled(all.map((b) => b.close()));
  }
}
