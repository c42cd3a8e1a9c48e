import { type BmcCapability, type BmcDriver, type BmcDriverFactory, BmcError, type BmcRegistry, type BmcTarget } from "../plugin-api/bmc.js";
import { type LearnResult, learnProtocol } from "./learn.js";

/** What a dynamic BMC can do whichever protocol it turns out to speak. */
const REQUIRED_CAPABILITIES: readonly BmcCapability[] = ["power", "bootDevice", "info", "sensors"];
/**
 * The above plus `events`, which only a Redfish BMC with an EventService delivers: subscribing through an
 * IPMI (or event-less) BMC fails with code unsupported and the caller keeps polling.
 */
export const DYNAMIC_CAPABILITIES: readonly BmcCapability[] = [...REQUIRED_CAPABILITIES, "events"];

/**
 * bm_type `dynamic` (and `bmc`), reference §6.1: the first call learns the protocol (Redfish service root,
 * else IPMI) and every call then goes to that protocol's driver. `learned` says what was chosen and why, for
 * the caller to persist with the host; a target that already carries `options.learned` skips learning.
 */
export class DynamicBmcDriver implements BmcDriver {
  readonly protocol = "dynamic";
  private inner: Promise<BmcDriver> | undefined;
  learned: LearnResult | undefined;
  private closed = false;

  constructor(
    private readonly registry: BmcRegistry,
    private readonly target: BmcTarget,
  ) {}

  supports(cap: BmcCapability): boolean {
    return DYNAMIC_CAPABILITIES.includes(cap);
  }

  private resolve(): Promise<BmcDriver> {
    if (!this.inner) {
      this.inner = (async () => {
        const known = this.target.options?.learned;
        this.learned =
          known === "redfish" || known === "ipmi" ? { protocol: known, reason: "learned earlier (persisted with the host)" } : await learnProtocol(this.target);
        return this.registry.connect(this.learned.protocol, this.target, REQUIRED_CAPABILITIES);
      })();
      // A failed learn/connect is retried on the next call rather than cached.
      this.inner.catch(() => {
        this.inner = undefined;
      });
    }
    return this.inner;
  }

  readonly power = {
    status: async () => (await this.resolve()).power!.status(),
    set: async (a: Parameters<NonNullable<BmcDriver["power"]>["set"]>[0]) => (await this.resolve()).power!.set(a),
  };
  readonly bootDevice = {
    set: async (...a: Parameters<NonNullable<BmcDriver["bootDevice"]>["set"]>) => (await this.resolve()).bootDevice!.set(...a),
  };
  readonly info = { get: async () => (await this.resolve()).info!.get() };
  readonly sensors = { read: async () => (await this.resolve()).sensors!.read() };
  readonly events = {
    subscribe: async (...a: Parameters<NonNullable<BmcDriver["events"]>["subscribe"]>) => {
      const inner = await this.resolve();
      if (!inner.events || !inner.supports("events"))
        throw new BmcError("unsupported", `the BMC speaks ${inner.protocol}, which has no event service here`, this.target.host);
      return inner.events.subscribe(...a);
    },
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const inner = await this.inner?.catch(() => undefined);
    await inner?.close();
  }
}

/** The `dynamic` protocol for the registry; needs the ipmi and redfish plugins loaded in the same registry. */
export function dynamicBmcFactory(registry: BmcRegistry): BmcDriverFactory {
  return { protocol: "dynamic", capabilities: DYNAMIC_CAPABILITIES, create: (target) => new DynamicBmcDriver(registry, target) };
}
