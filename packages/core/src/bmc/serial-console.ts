import { SerialPort } from "serialport";
import type { ConsoleAccess, ConsoleStream } from "../plugin-api/bmc.js";
import { BmcError } from "../plugin-api/bmc.js";

/**
 * A host's console on a serial line (a console server port, a USB serial adapter, or in tests one end of a
 * socat pty pair), through the serialport package. The same ConsoleAccess shape as a BMC's SOL.
 */
export function serialConsole(path: string, baudRate = 115200, host = path): ConsoleAccess {
  return {
    open: () =>
      new Promise<ConsoleStream>((resolve, reject) => {
        const port = new SerialPort({ path, baudRate, autoOpen: false });
        port.open((err) => {
          if (err) {
            reject(new BmcError("unreachable", `serial console ${path}: ${err.message}`, host));
            return;
          }
          let closed = false;
          resolve({
            onData: (listener) => {
              port.on("data", (chunk: Buffer) => listener(chunk));
            },
            write: (data) =>
              new Promise<void>((res, rej) => {
                if (closed) return rej(new BmcError("protocol", "console is closed", host));
                port.write(data, (e) => (e ? rej(e) : port.drain((d) => (d ? rej(d) : res()))));
              }),
            close: () =>
              new Promise<void>((res) => {
                if (closed || !port.isOpen) {
                  closed = true;
                  return res();
                }
                closed = true;
                port.close(() => res());
              }),
          });
        });
      }),
  };
}
