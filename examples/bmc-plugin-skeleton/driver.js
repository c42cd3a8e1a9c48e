// @ts-check
/**
 * The driver: one connection to one Acme BMC. Acme speaks JSON over HTTP with basic auth:
 *   GET  /acme/v1/power  -> {"state": "on" | "off"}
 *   POST /acme/v1/power  {"action": "on" | "off" | "cycle" | "reset"}
 *   GET  /acme/v1/info   -> {"manufacturer", "model", "serial", "firmware", "state"}
 * Every failure is a BmcError with a stable code (auth, permission, unreachable, timeout, busy, protocol): metal
 * recognises it by that code, so this package may bundle its own copy of @metal/core.
 */
import { BmcError } from "@metal/core/plugin-api";

/** @type {import("@metal/core/plugin-api").BmcCapability[]} */
export const ACME_CAPABILITIES = ["power", "info"];

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_SOCKET"]);

/**
 * @param {import("@metal/core/plugin-api").BmcTarget} target
 * @returns {import("@metal/core/plugin-api").BmcDriver}
 */
export function acmeDriver(target) {
  const host = target.address.includes(":") ? `[${target.address}]` : target.address;
  const base = `${target.options?.scheme ?? "http"}://${host}:${target.port ?? 8623}/acme/v1`;
  const timeoutMs = target.timeoutMs ?? 10_000;

  /**
   * @param {"GET" | "POST"} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<Record<string, unknown>>}
   */
  async function call(method, path, body) {
    // The password is revealed only here, into the request header; it is never logged or put in a message.
    const auth = Buffer.from(`${target.username}:${target.password.reveal()}`).toString("base64");
    let res;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Basic ${auth}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = /** @type {{ name?: string, cause?: { code?: string } }} */ (err);
      if (e.name === "TimeoutError" || e.name === "AbortError")
        throw new BmcError("timeout", `${method} ${path}: no answer within ${timeoutMs} ms`, target.host);
      if (NETWORK_CODES.has(e.cause?.code ?? "")) throw new BmcError("unreachable", `${base}: ${e.cause?.code}`, target.host);
      throw new BmcError("protocol", `${method} ${path}: ${/** @type {Error} */ (err).message}`, target.host);
    }
    if (res.status === 401) throw new BmcError("auth", `the BMC refused the credentials of ${target.username}`, target.host);
    if (res.status === 403) throw new BmcError("permission", `${target.username} may not ${method} ${path}`, target.host);
    if (res.status === 503) throw new BmcError("busy", `${method} ${path}: the BMC is busy`, target.host);
    if (!res.ok) throw new BmcError("protocol", `${method} ${path}: HTTP ${res.status}`, target.host);
    const text = await res.text();
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw new BmcError("protocol", `${method} ${path}: the answer is not JSON`, target.host);
    }
  }

  /** @returns {Promise<"on" | "off">} */
  async function status() {
    const { state } = await call("GET", "/power");
    if (state !== "on" && state !== "off") throw new BmcError("protocol", `power state '${String(state)}' is neither on nor off`, target.host);
    return state;
  }

  return {
    protocol: "acme",
    supports: (cap) => ACME_CAPABILITIES.includes(cap),
    power: {
      status,
      async set(action) {
        // Acme has no graceful variants: they map to the forced ones.
        const sent = action === "graceful-off" ? "off" : action === "graceful-restart" ? "reset" : action;
        await call("POST", "/power", { action: sent });
      },
    },
    info: {
      async get() {
        const i = await call("GET", "/info");
        return {
          manufacturer: String(i.manufacturer ?? ""),
          model: String(i.model ?? ""),
          serial: String(i.serial ?? ""),
          firmwareVersion: String(i.firmware ?? ""),
          ...(i.state === "on" || i.state === "off" ? { powerState: i.state } : {}),
        };
      },
    },
    close: async () => {},
  };
}
