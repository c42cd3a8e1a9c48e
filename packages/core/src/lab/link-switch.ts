import type { Datagram, Endpoint, NetworkName, Transport } from "../transport/transport.js";

/**
 * The lab's cable cutter for one simulated host: while a network is cut, nothing this host sends on it leaves and
 * nothing addressed to it arrives, but the host keeps running (heartbeat loss without a reboot, so graceful recovery
 * can be tested). The lab process flips it over the host process's IPC channel (`{ type: "links", down: [...] }`).
 */
export class LinkSwitch {
  private down = new Set<NetworkName>();
  readonly stats = { droppedIn: 0, droppedOut: 0 };

  /** Replace the set of cut networks. */
  set(down: Iterable<NetworkName>): void {
    this.down = new Set(down);
  }

  isDown(network: NetworkName): boolean {
    return this.down.has(network);
  }
}

/** A Transport whose endpoints obey a LinkSwitch (mtcClient's sockets in a lab host). */
export class SwitchedTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly links: LinkSwitch,
  ) {}

  async bind(network: NetworkName, address: string, port: number, onBatch: (batch: readonly Datagram[]) => void): Promise<Endpoint> {
    const links = this.links;
    const ep = await this.inner.bind(network, address, port, (batch) => {
      if (!links.isDown(network)) return onBatch(batch);
      links.stats.droppedIn += batch.length;
    });
    return {
      network: ep.network,
      address: ep.address,
      port: ep.port,
      send: async (data, to, toPort) => {
        if (links.isDown(network)) {
          links.stats.droppedOut++;
          return;
        }
        await ep.send(data, to, toPort);
      },
      close: () => ep.close(),
    };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The lab's network names (as operators write them) to the transport's. */
export const LAB_NETWORK_NAME: Readonly<Record<"mgmt" | "cluster-host" | "pxeboot", NetworkName>> = {
  mgmt: "mgmt",
  "cluster-host": "clusterHost",
  pxeboot: "pxeboot",
};
