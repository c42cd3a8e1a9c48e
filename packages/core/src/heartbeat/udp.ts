import type { RemoteInfo } from "node:dgram";
import type { DatagramAuth } from "../transport/datagram-auth.js";
import { UdpSocket } from "../transport/udp-socket.js";

export interface BindUdpOptions {
  /** The node's DatagramAuth (`datagramAuthFor(config, log)`); PLAIN_DATAGRAMS only for peers outside metal (SM). */
  auth: DatagramAuth;
  /** Names the socket in drop log lines. */
  label: string;
  onMessage?: (data: Buffer, from: RemoteInfo) => void;
  reuseAddr?: boolean;
  bufferBytes?: number;
}

/** Bind a heartbeat UDP socket (transport/udp-socket.ts); rejects (instead of throwing later) when the address or port cannot be had. */
export function bindUdp(address: string, port: number, options: BindUdpOptions): Promise<UdpSocket> {
  return UdpSocket.bind({ address, port, onMessage: () => {}, ...options });
}

/** Fire-and-forget send; a failed send is reported to `onError`, never thrown into the event loop. */
export function sendUdp(sock: UdpSocket, data: Buffer, port: number, address: string, onError: (err: Error) => void): void {
  sock.send(data, port, address, (err) => {
    if (err) onError(err);
  });
}

export function closeUdp(sock: UdpSocket | undefined): Promise<void> {
  return sock ? sock.close() : Promise.resolve();
}
