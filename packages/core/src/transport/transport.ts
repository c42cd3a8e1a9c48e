/** The three maintenance networks of the reference (MGMNT_INTERFACE=0, CLSTR_INTERFACE=1, PXEBOOT_INTERFACE=2). */
export type NetworkName = "mgmt" | "clusterHost" | "pxeboot";
export const NETWORKS: readonly NetworkName[] = ["mgmt", "clusterHost", "pxeboot"];
/** Interface names as the reference prints them in logs and JSON. */
export const NETWORK_LABEL: Readonly<Record<NetworkName, string>> = {
  mgmt: "Mgmnt",
  clusterHost: "Clstr",
  pxeboot: "Pxeboot",
};

export interface Datagram {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
  readonly network: NetworkName;
}

export interface Endpoint {
  readonly network: NetworkName;
  readonly address: string;
  readonly port: number;
  send(data: Buffer, address: string, port: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * UDP sockets per network. `onBatch` receives every datagram that arrived since the last event-loop
 * turn, so a burst is handled in one pass and never blocks the loop per message.
 */
export interface Transport {
  bind(network: NetworkName, address: string, port: number, onBatch: (batch: readonly Datagram[]) => void): Promise<Endpoint>;
  close(): Promise<void>;
}
