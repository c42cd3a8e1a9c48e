import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { isIPv6 } from "node:net";
import type { DatagramAuth } from "./datagram-auth.js";

export interface UdpSocketOptions {
  /** The address to bind: a configured address, never a wildcard unless the caller documents why (multicast). */
  address: string;
  /** 0: the kernel picks. */
  port: number;
  /** Applied to every datagram sent and received: `datagramAuthFor(config, logger)`, or PLAIN_DATAGRAMS on purpose. */
  auth: DatagramAuth;
  /** Names the socket in drop log lines ("hbsAgent cmd", "guestServer", ...). */
  label: string;
  /** Receives the original bytes of every datagram that passed `auth`. */
  onMessage: (data: Buffer, from: RemoteInfo) => void;
  reuseAddr?: boolean;
  /** SO_RCVBUF and SO_SNDBUF (the kernel caps them at rmem_max/wmem_max). */
  bufferBytes?: number;
}

/**
 * The one place a metal daemon's UDP socket is made: every send is sealed and every receipt opened through
 * the node's DatagramAuth, so a new socket gets authentication and replay protection by being created here.
 * Send errors go to the callback (or nowhere), never into the event loop.
 *
 * ```ts
 * const sock = await UdpSocket.bind({ address, port, auth: datagramAuthFor(config, log), label: "pmond", onMessage });
 * sock.send(data, port, to, (err) => err && log.warn(...));
 * await sock.close();
 * ```
 */
export class UdpSocket {
  private closed = false;

  private constructor(
    private readonly sock: Socket,
    private readonly auth: DatagramAuth,
  ) {}

  /** Bind; rejects with "cannot bind UDP address:port: reason" when the address or port cannot be had. */
  static bind(o: UdpSocketOptions): Promise<UdpSocket> {
    const sock = createSocket({ type: isIPv6(o.address) ? "udp6" : "udp4", reuseAddr: o.reuseAddr ?? false });
    const wrapped = new UdpSocket(sock, o.auth);
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        try {
          sock.close();
        } catch {
          // never bound
        }
        reject(new Error(`cannot bind UDP ${o.address}:${o.port}: ${err.message}`));
      };
      sock.once("error", onError);
      sock.bind(o.port, o.address, () => {
        sock.off("error", onError);
        sock.on("error", () => {});
        if (o.bufferBytes) {
          try {
            sock.setRecvBufferSize(o.bufferBytes);
            sock.setSendBufferSize(o.bufferBytes);
          } catch {
            // keep the default size
          }
        }
        const auth = o.auth;
        const onMessage = o.onMessage;
        const label = o.label;
        sock.on("message", (data, rinfo) => {
          const plain = auth.open(data, rinfo.address, label);
          if (plain) onMessage(plain, rinfo);
        });
        resolve(wrapped);
      });
    });
  }

  /** Sealed send; `cb` gets the send error, if any. */
  send(data: Buffer, port: number, address: string, cb?: (err: Error | null) => void): void {
    if (this.closed) {
      cb?.(new Error("socket closed"));
      return;
    }
    try {
      this.sock.send(this.auth.seal(data), port, address, (err) => cb?.(err ?? null));
    } catch (err) {
      cb?.(err as Error);
    }
  }

  address(): AddressInfo {
    return this.sock.address();
  }

  /** Socket errors after bind (ICMP unreachable and the like); ignored unless a listener is given. */
  onError(listener: (err: Error) => void): void {
    this.sock.on("error", listener);
  }

  addMembership(group: string, iface?: string): void {
    this.sock.addMembership(group, iface);
  }

  setMulticastInterface(iface: string): void {
    this.sock.setMulticastInterface(iface);
  }

  setMulticastTTL(ttl: number): void {
    this.sock.setMulticastTTL(ttl);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      try {
        this.sock.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
