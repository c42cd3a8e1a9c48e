import { readFile } from "node:fs/promises";
import { isIPv4 } from "node:net";
import { normalizeMac } from "../wire/mtc-mac.js";

/** A host's pxeboot address as the DHCP server knows it. */
export interface PxebootAddressHint {
  ip: string;
  mac?: string;
  hostname?: string;
  source: "lease" | "hosts";
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,62})$/i;

/** dnsmasq's lease file: `<expiry> <mac> <ip> <hostname|*> <client-id|*>` per line. */
export function parseDnsmasqLeases(text: string): PxebootAddressHint[] {
  const out: PxebootAddressHint[] = [];
  for (const line of text.split("\n")) {
    const [expiry, mac, ip, hostname] = line.trim().split(/\s+/);
    if (!expiry || !/^\d+$/.test(expiry) || !ip || !isIPv4(ip)) continue;
    const hint: PxebootAddressHint = { ip, source: "lease" };
    const m = normalizeMac(mac);
    if (m) hint.mac = m;
    if (hostname && hostname !== "*" && HOSTNAME.test(hostname)) hint.hostname = hostname.toLowerCase();
    out.push(hint);
  }
  return out;
}

/**
 * dnsmasq host entries: a `--dhcp-hostsfile` (`mac,[set:tag,]ip,hostname`) or `dhcp-host=` lines of a config
 * (as `metal bsp dnsmasq` writes them). Tokens are told apart by their form, whatever their order.
 */
export function parseDnsmasqHosts(text: string): PxebootAddressHint[] {
  const out: PxebootAddressHint[] = [];
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (line.includes("=")) {
      if (!line.startsWith("dhcp-host=")) continue;
      line = line.slice("dhcp-host=".length);
    }
    let ip: string | undefined;
    let mac: string | undefined;
    let hostname: string | undefined;
    for (const tok of line.split(",").map((s) => s.trim())) {
      if (/^(set|tag|id):/.test(tok) || tok === "ignore" || tok === "infinite" || /^\d+[smhdw]?$/.test(tok)) continue;
      if (isIPv4(tok)) ip ??= tok;
      else if (normalizeMac(tok)) mac ??= normalizeMac(tok);
      else if (HOSTNAME.test(tok)) hostname ??= tok.toLowerCase();
    }
    if (!ip) continue;
    out.push({ ip, source: "hosts", ...(mac ? { mac } : {}), ...(hostname ? { hostname } : {}) });
  }
  return out;
}

/** Everything the configured dnsmasq files say; a missing or unreadable file says nothing. */
export async function readPxebootHints(files: { leases?: string | undefined; hosts: readonly string[] }): Promise<PxebootAddressHint[]> {
  const read = (f: string) => readFile(f, "utf8").catch(() => "");
  const hints: PxebootAddressHint[] = [];
  if (files.leases) hints.push(...parseDnsmasqLeases(await read(files.leases)));
  for (const f of files.hosts) hints.push(...parseDnsmasqHosts(await read(f)));
  return hints;
}
