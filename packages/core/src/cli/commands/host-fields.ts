import { isIP } from "node:net";
import type { Command } from "commander";
import { secretFromFile } from "../../di/secret.js";
import { CliError, intOption } from "../errors.js";

/** The provisioning options host-add and host-update share (the `system host-add/host-update` fields). */
export interface HostFieldOptions {
  personality?: string;
  subfunctions?: string;
  mgmtIp?: string;
  mgmtMac?: string;
  clusterHostIp?: string;
  pxebootIp?: string;
  bmType?: string;
  bmIp?: string;
  bmPort?: number;
  bmUsername?: string;
  bmSecretFile?: string;
}

/** Add the provisioning options (personality is added by each command: required by add, optional for update). */
export function withHostFields(cmd: Command): Command {
  return cmd
    .option("--subfunctions <list>", "comma-separated, e.g. controller,worker for an AIO controller")
    .option("--mgmt-ip <ip>", "management address (IPv4 or IPv6)")
    .option("--mgmt-mac <mac>", "management MAC, six colon-separated hex octets")
    .option("--cluster-host-ip <ip>", "cluster-host address (IPv4 or IPv6)")
    .option("--pxeboot-ip <ip>", "pxeboot address (IPv4 or IPv6)")
    .option("--bm-type <type>", "BMC protocol: a loaded plugin's (ipmi, redfish, ...) or dynamic")
    .option("--bm-ip <addr>", "BMC address (IPv4, IPv6 or a DNS name)")
    .option("--bm-port <port>", "BMC port when not the protocol's default", intOption("--bm-port", 1, 65535))
    .option("--bm-username <user>", "BMC user name")
    .option("--bm-secret-file <file>", "file (mode 0600) with the BMC password; the agent reads it, the CLI checks it exists and is private");
}

/**
 * The request body for the given options, checked here first so a typo fails before the API is asked:
 * addresses are IPv4/IPv6, the secret file exists and is private. `current` is the host's BMC for an update
 * (so `--bm-secret-file` alone changes only the secret). Throws CliError (exit 2) naming the option.
 */
export function hostFieldsBody(
  o: HostFieldOptions,
  current?: { type: string; address: string; username: string; port?: number; secretRef?: string },
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (o.personality !== undefined) {
    if (!["controller", "worker", "storage"].includes(o.personality))
      throw new CliError(`--personality must be controller, worker or storage (got '${o.personality}')`);
    body.personality = o.personality;
  }
  if (o.subfunctions !== undefined) body.subfunctions = o.subfunctions.split(",").map((s) => s.trim());
  for (const [flag, key, v] of [
    ["--mgmt-ip", "mgmtIp", o.mgmtIp],
    ["--cluster-host-ip", "clusterHostIp", o.clusterHostIp],
    ["--pxeboot-ip", "pxebootIp", o.pxebootIp],
  ] as const) {
    if (v === undefined) continue;
    if (isIP(v) === 0) throw new CliError(`${flag}: '${v}' is not an IPv4 or IPv6 address`);
    body[key] = v;
  }
  if (o.mgmtMac !== undefined) {
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(o.mgmtMac)) throw new CliError(`--mgmt-mac: '${o.mgmtMac}' is not six colon-separated hex octets`);
    body.mgmtMac = o.mgmtMac;
  }
  const bmcGiven = o.bmType !== undefined || o.bmIp !== undefined || o.bmUsername !== undefined || o.bmPort !== undefined || o.bmSecretFile !== undefined;
  if (bmcGiven) {
    const bmc = {
      ...current,
      ...(o.bmType !== undefined ? { type: o.bmType } : {}),
      ...(o.bmIp !== undefined ? { address: o.bmIp } : {}),
      ...(o.bmUsername !== undefined ? { username: o.bmUsername } : {}),
      ...(o.bmPort !== undefined ? { port: o.bmPort } : {}),
      ...(o.bmSecretFile !== undefined ? { secretRef: o.bmSecretFile } : {}),
    } as Record<string, unknown>;
    delete bmc.learned;
    for (const [flag, key] of [
      ["--bm-type", "type"],
      ["--bm-ip", "address"],
      ["--bm-username", "username"],
      ["--bm-secret-file", "secretRef"],
    ] as const)
      if (bmc[key] === undefined) throw new CliError(`${flag} is required for a BMC (give --bm-type, --bm-ip, --bm-username and --bm-secret-file)`);
    const addr = String(bmc.address);
    if (/^[0-9.]+$/.test(addr) ? isIP(addr) === 0 : isIP(addr) === 0 && !/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(addr))
      throw new CliError(`--bm-ip: '${addr}' is not an IPv4 or IPv6 address or a DNS name`);
    if (o.bmSecretFile !== undefined) {
      try {
        secretFromFile(o.bmSecretFile);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new CliError(`--bm-secret-file: ${e.code === "ENOENT" ? `${o.bmSecretFile}: no such file` : e.message}`);
      }
    }
    body.bmc = bmc;
  }
  return body;
}
