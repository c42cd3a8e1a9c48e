import { closeSync, constants, openSync, statSync, write } from "node:fs";
import { createConnection } from "node:net";
import { isatty, ReadStream } from "node:tty";

export interface DeviceLink {
  write(frame: string): void;
  close(): void;
}

export interface DeviceHandlers {
  data(chunk: Buffer): void;
  closed(reason: string): void;
}

/**
 * Open the guest's end of the channel. In a VM it is the virtio-serial port
 * /dev/virtio-ports/cgcs.heartbeat; a pty (socat's bridge to QEMU's socket) and a UNIX socket work too,
 * so the same client runs in tests and labs.
 */
export function openDevice(path: string, handlers: DeviceHandlers): Promise<DeviceLink> {
  let isSocket = false;
  try {
    isSocket = statSync(path).isSocket();
  } catch (err) {
    return Promise.reject(err);
  }
  return isSocket ? openSocket(path, handlers) : openCharDevice(path, handlers);
}

function openSocket(path: string, handlers: DeviceHandlers): Promise<DeviceLink> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    let open = false;
    socket.once("connect", () => {
      open = true;
      resolve({ write: (f) => !socket.destroyed && socket.write(f), close: () => socket.destroy() });
    });
    socket.on("data", (c: Buffer) => handlers.data(c));
    socket.on("error", (err) => !open && reject(err));
    socket.on("close", () => open && handlers.closed("socket closed"));
  });
}

async function openCharDevice(path: string, handlers: DeviceHandlers): Promise<DeviceLink> {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  let closed = false;
  const close = (reason?: string) => {
    if (closed) return;
    closed = true;
    stream?.destroy();
    if (!stream) closeSync(fd);
    if (reason) handlers.closed(reason);
  };
  let stream: ReadStream | undefined;
  if (isatty(fd)) {
    stream = new ReadStream(fd);
    // Raw: no line discipline between us and the host (no echo, no CR/LF mangling).
    stream.setRawMode(true);
    stream.on("data", (c: Buffer) => handlers.data(c));
    stream.on("error", (err) => close(`device error: ${err.message}`));
    stream.on("close", () => close("device closed"));
  } else {
    // A virtio-serial port: read it on the libuv thread pool.
    const { createReadStream } = await import("node:fs");
    const rs = createReadStream("", { fd, autoClose: false });
    rs.on("data", (c) => handlers.data(c as Buffer));
    rs.on("error", (err) => close(`device error: ${err.message}`));
    rs.on("end", () => close("device hung up"));
  }
  return {
    write: (frame) => {
      if (!closed) write(fd, frame, (err) => err && close(`device write failed: ${err.message}`));
    },
    close: () => close(),
  };
}
