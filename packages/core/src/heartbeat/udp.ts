import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";

/** Bind a UDP socket; rejects (instead of throwing later) when the address or port cannot be had. */
export function bindUdp(address: string, port: number, options: { reuseAddr?: boolean; bufferBytes?: number } = {}): Promise<Socket> {
  const sock = createSocket({ type: isIPv6(address) ? "udp6" : "udp4", reuseAddr: options.reuseAddr ?? false });
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      sock.close();
      reject(new Error(`cannot bind UDP ${address}:${port}: ${err.message}`));
    };
    sock.once("error", onError);
    sock.bind(port, address, () => {
      sock.off("error", onError);
      if (options.bufferBytes) {
        // A period's responses from thousands of hosts arrive in one burst; the kernel caps this at rmem_max.
        try {
          sock.setRecvBufferSize(options.bufferBytes);
          sock.setSendBufferSize(options.bufferBytes);
        } catch {
          // keep the default size
        }
      }
      resolve(sock);
    });
  });
}

/** Fire-and-forget send; a failed send is reported to `onError`, never thrown into the event loop. */
export function sendUdp(sock: Socket, data: Buffer, port: number, address: string, onError: (err: Error) => void): void {
  try {
    sock.send(data, port, address, (err) => {
      if (err) onError(err);
    });
  } catch (err) {
    onError(err as Error);
  }
}

export function closeUdp(sock: Socket | undefined): Promise<void> {
  if (!sock) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
