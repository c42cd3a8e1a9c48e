import { createConnection } from "node:net";
import type { ChannelConnector, ChannelLink, LinkHandlers } from "./ports.js";

/** guestServer is the client of QEMU's listening socket (reference A.2). */
export class UnixChannelConnector implements ChannelConnector {
  connect(path: string, handlers: LinkHandlers): Promise<ChannelLink> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      let open = false;
      socket.once("connect", () => {
        open = true;
        resolve({
          write: (frame) => {
            if (!socket.destroyed) socket.write(frame);
          },
          close: () => socket.destroy(),
        });
      });
      socket.on("data", (chunk: Buffer) => handlers.data(chunk));
      socket.on("error", (err) => {
        if (!open) reject(err);
      });
      socket.on("close", () => {
        if (open) handlers.closed("socket closed");
      });
    });
  }
}
