import { createSocket, type Socket } from "node:dgram";

import { freeUdpPorts as freeUdpPortsFrom } from "../../src/transport/free-ports.js";

export { freeUdpPortsFrom as freeUdpPorts };

/** A UDP socket that collects what it receives, for playing a peer in tests. */
export class Peer {
  readonly received: Array<{ data: Buffer; address: string; port: number }> = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly socket: Socket) {
    socket.on("message", (data, rinfo) => {
      this.received.push({ data, address: rinfo.address, port: rinfo.port });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async bind(address: string, port = 0): Promise<Peer> {
    const s = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(port, address, () => resolve());
    });
    return new Peer(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Buffer | string, port: number, address = "127.0.0.1"): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, port, address, (err) => (err ? reject(err) : resolve())));
  }

  /** Wait (bounded) until a received datagram matches. */
  async waitFor(
    pred: (d: { data: Buffer; address: string; port: number }) => boolean,
    timeoutMs = 20_000,
  ): Promise<{ data: Buffer; address: string; port: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a datagram");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** The six messaging ports an agent/client pair needs, free on loopback. */
export interface MessagingPorts {
  agentMgmt: number;
  agentClstr: number;
  agentPxeboot: number;
  clientMgmt: number;
  clientClstr: number;
  clientPxeboot: number;
}

export async function freeMessagingPorts(): Promise<MessagingPorts> {
  const [agentMgmt, agentClstr, agentPxeboot, clientMgmt, clientClstr, clientPxeboot] = (await freeUdpPortsFrom(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { agentMgmt, agentClstr, agentPxeboot, clientMgmt, clientClstr, clientPxeboot };
}
