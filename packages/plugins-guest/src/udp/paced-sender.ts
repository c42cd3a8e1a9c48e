import type { Clock } from "@metal/core/plugin-api";

/** What the sender needs of a socket (a `UdpSocket` of @metal/core/transport/udp-socket: sealed sends). */
export interface DatagramSink {
  send(data: Buffer, port: number, address: string, cb: (err: Error | null) => void): void;
}

/**
 * Sends datagrams in bursts of at most `burst`, with `gapMs` between bursts. A guestServer with 1,000
 * VMs answers a QRY_INST with 1,000 datagrams of 1060 bytes at once (and guestAgent sends as many
 * MOD_INSTs on READY); a receiver's default socket buffer (~200 KB) would drop most of such a burst.
 */
export class PacedUdpSender {
  private readonly queue: Array<{ data: Buffer; port: number; address: string; onError: (err: Error) => void }> = [];
  private draining = false;

  constructor(
    private readonly socket: () => DatagramSink | undefined,
    private readonly clock: Clock,
    private readonly burst = 64,
    private readonly gapMs = 5,
    private readonly maxQueued = 100_000,
  ) {}

  send(data: Buffer, port: number, address: string, onError: (err: Error) => void): void {
    if (this.queue.length >= this.maxQueued) {
      onError(new Error("send queue full"));
      return;
    }
    this.queue.push({ data, port, address, onError });
    if (!this.draining) this.drain();
  }

  private drain(): void {
    const s = this.socket();
    if (!s) {
      this.queue.length = 0;
      this.draining = false;
      return;
    }
    for (let i = 0; i < this.burst; i++) {
      const item = this.queue.shift();
      if (!item) break;
      s.send(item.data, item.port, item.address, (err) => err && item.onError(err));
    }
    this.draining = this.queue.length > 0;
    if (this.draining) this.clock.setTimeout(() => this.drain(), this.gapMs);
  }
}
