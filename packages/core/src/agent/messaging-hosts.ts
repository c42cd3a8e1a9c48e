import type { NetworkName } from "../transport/transport.js";

/** What messaging needs to know about a host; the agent keeps it in step with the inventory through `setHost`. */
export interface MessagingHost {
  hostname: string;
  /** Where commands go on mgmt; also how ACKs and goenabled results on mgmt are attributed. */
  mgmtIp: string;
  /** Written at hdr[17] of every command; learned from the host's mtcAlive when not given. */
  mgmtMac?: string;
  /** Learned from mtcAlive on cluster-host when not given. */
  clusterHostIp?: string;
  /** Learned from mtcAlive on pxeboot (and from dnsmasq leases/hosts files) when not given. */
  pxebootIp?: string;
  /**
   * The admin state maintenance holds for the host. When set, every mtcAlive is audited against it
   * (nodeClass.cpp: set_mtce_flags): a locked host that reports no I_AM_LOCKED flag gets MTC_MSG_LOCKED
   * on every network, an unlocked host that reports it gets MTC_MSG_UNLOCKED. That keeps the node-locked
   * files right within one mtcAlive period.
   */
  administrative?: "locked" | "unlocked";
}

export interface HostEntry extends MessagingHost {
  /** Last sequence number seen per network (0 = none yet). */
  sequence: Record<NetworkName, number>;
  /** The host's client advertised `pxeboot_mtcAlive` in its ready event. */
  pxebootFeature: boolean;
}

/** Hosts by name and by address on each network. */
export class HostAddressBook {
  private readonly byName = new Map<string, HostEntry>();
  private readonly byAddress: Record<NetworkName, Map<string, string>> = { mgmt: new Map(), clusterHost: new Map(), pxeboot: new Map() };

  set(host: MessagingHost): HostEntry {
    const old = this.byName.get(host.hostname);
    if (old) this.unindex(old);
    const entry: HostEntry = {
      ...old,
      ...host,
      sequence: old?.sequence ?? { mgmt: 0, clusterHost: 0, pxeboot: 0 },
      pxebootFeature: old?.pxebootFeature ?? false,
    };
    // Learned values survive an update that does not name them.
    for (const k of ["mgmtMac", "clusterHostIp", "pxebootIp"] as const) if (host[k] === undefined && old?.[k] !== undefined) entry[k] = old[k];
    this.byName.set(host.hostname, entry);
    this.index(entry);
    return entry;
  }

  remove(hostname: string): void {
    const old = this.byName.get(hostname);
    if (!old) return;
    this.unindex(old);
    this.byName.delete(hostname);
  }

  get(hostname: string): HostEntry | undefined {
    return this.byName.get(hostname);
  }

  at(network: NetworkName, address: string): HostEntry | undefined {
    const name = this.byAddress[network].get(address);
    return name === undefined ? undefined : this.byName.get(name);
  }

  all(): IterableIterator<HostEntry> {
    return this.byName.values();
  }

  /** Record an address the host was seen at; true when it changed. */
  learn(entry: HostEntry, network: "clusterHost" | "pxeboot", address: string): boolean {
    const key = network === "clusterHost" ? "clusterHostIp" : "pxebootIp";
    if (entry[key] === address) return false;
    if (entry[key] !== undefined) this.byAddress[network].delete(entry[key]);
    entry[key] = address;
    this.byAddress[network].set(address, entry.hostname);
    return true;
  }

  addressOn(entry: HostEntry, network: NetworkName): string | undefined {
    return network === "mgmt" ? entry.mgmtIp : network === "clusterHost" ? entry.clusterHostIp : entry.pxebootIp;
  }

  private index(e: HostEntry): void {
    this.byAddress.mgmt.set(e.mgmtIp, e.hostname);
    if (e.clusterHostIp) this.byAddress.clusterHost.set(e.clusterHostIp, e.hostname);
    if (e.pxebootIp) this.byAddress.pxeboot.set(e.pxebootIp, e.hostname);
  }

  private unindex(e: HostEntry): void {
    if (this.byAddress.mgmt.get(e.mgmtIp) === e.hostname) this.byAddress.mgmt.delete(e.mgmtIp);
    if (e.clusterHostIp && this.byAddress.clusterHost.get(e.clusterHostIp) === e.hostname) this.byAddress.clusterHost.delete(e.clusterHostIp);
    if (e.pxebootIp && this.byAddress.pxeboot.get(e.pxebootIp) === e.hostname) this.byAddress.pxeboot.delete(e.pxebootIp);
  }
}
