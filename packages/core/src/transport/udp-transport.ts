import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { type DatagramAuth, PLAIN_DATAGRAMS } from "./datagram-auth.js";
import type { Datagram, Endpoint, NetworkName, Transport } from "./transport.js";

export interface UdpTransportOptions {
  /** SO_RCVBUF for every socket: a burst of mtcAlives from 500 hosts must not overflow the kernel queue. */
  recvBufferSize?: number;
  /** Deliver at most this many datagrams per batch (MAX_RX_MSG_BATCH=50 in the reference is per select pass). */
  maxBatch?: number;
  /**
   * Sealing and opening of every datagram (transport/datagram-auth.ts). Daemons pass `datagramAuthFor(config, log)`;
   * the default is plain, the original wire format (tests and benches that speak it on purpose).
   */
  auth?: DatagramAuth;
}

/**
 * UDP sockets per network. Datagrams are queued as they arrive and handed over in batches once per
 * event-loop turn (setImmediate), so a burst costs one dispatch pass, and the loop never blocks on a message.
 */
export class UdpTransport implements Transport {
  private readonly endpoints = new Set<UdpEndpoint>();

  constructor(private readonly options: UdpTransportOptions = {}) {}

  async bind(network: NetworkName, address: string, port: number, onBatch: (batch: readonly Datagram[]) => void): Promise<Endpoint> {
    const ep = new UdpEndpoint(network, address, onBatch, this.options);
    await ep.open(port);
    this.endpoints.add(ep);
    ep.onClose = () => this.endpoints.delete(ep);
    return ep;
  }

  async close(): Promise<void> {
    await Promise.all([...this.endpoints].map((e) => e.close()));
  }
}

class UdpEndpoint implements Endpoint {
  private socket: Socket;
  private queue: Datagram[] = [];
  private scheduled = false;
  private closed = false;
  port = 0;
  onClose?: () => void;

  constructor(
    readonly network: NetworkName,
    readonly address: string,
    private readonly onBatch: (batch: readonly Datagram[]) => void,
    private readonly options: UdpTransportOptions,
  ) {
    this.socket = createSocket({ type: isIPv6(address) ? "udp6" : "udp4" });
  }

  open(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.socket.once("error", onError);
      this.socket.bind(port, this.address, () => {
        this.socket.off("error", onError);
        // After bind, a socket error (ICMP unreachable on send, ...) is logged by the owner through a
        // failed send(); it must never become an uncaught exception.
        this.socket.on("error", () => {});
        if (this.options.recvBufferSize) {
          try {
            this.socket.setRecvBufferSize(this.options.recvBufferSize);
          } catch {
            // The kernel caps SO_RCVBUF at rmem_max; the default size still works.
          }
        }
        this.port = this.socket.address().port;
        const auth = this.options.auth ?? PLAIN_DATAGRAMS;
        const label = `${this.network} ${this.address}`;
        this.socket.on("message", (data, rinfo) => {
          const plain = auth.open(data, rinfo.address, label);
          if (plain) this.enqueue(plain, rinfo.address, rinfo.port);
        });
        resolve();
      });
    });
  }

  private enqueue(data: Buffer, address: string, port: number): void {
    this.queue.push({ data, address, port, network: this.network });
    if (this.options.maxBatch && this.queue.length >= this.options.maxBatch) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.onBatch(batch);
  };

  send(data: Buffer, address: string, port: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.network} endpoint ${this.address} is closed`));
    return new Promise((resolve, reject) => {
      this.socket.send((this.options.auth ?? PLAIN_DATAGRAMS).seal(data), port, address, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.onClose?.();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
