/**
 * `metal pmon status`: ask the running pmond over its status socket. Errors carry a stable code:
 * PMON_NOT_RUNNING (no socket / refused), PMON_STATUS_TIMEOUT, PMON_STATUS_INVALID.
 */
import { createConnection } from "node:net";
import type { PmondStatus } from "./pmond.js";

export class PmonStatusError extends Error {
  constructor(
    readonly code: "PMON_NOT_RUNNING" | "PMON_STATUS_TIMEOUT" | "PMON_STATUS_INVALID",
    message: string,
  ) {
    super(message);
    this.name = "PmonStatusError";
  }
}

const MAX_STATUS_BYTES = 1 << 20;

export function queryPmonStatus(socketPath: string, timeoutMs = 2000): Promise<PmondStatus> {
  return new Promise((resolve, reject) => {
    let text = "";
    const sock = createConnection(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new PmonStatusError("PMON_STATUS_TIMEOUT", `pmond did not answer on ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding("utf8");
    sock.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > MAX_STATUS_BYTES) sock.destroy(new Error("status too large"));
    });
    sock.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const notRunning = err.code === "ENOENT" || err.code === "ECONNREFUSED";
      reject(new PmonStatusError(notRunning ? "PMON_NOT_RUNNING" : "PMON_STATUS_INVALID", notRunning ? `pmond is not running (${socketPath})` : err.message));
    });
    sock.on("end", () => {
      clearTimeout(timer);
      try {
        const v = JSON.parse(text) as PmondStatus;
        if (!v || !Array.isArray(v.processes)) throw new Error("no process list");
        resolve(v);
      } catch (err) {
        reject(new PmonStatusError("PMON_STATUS_INVALID", `bad status from pmond: ${(err as Error).message}`));
      }
    });
  });
}
