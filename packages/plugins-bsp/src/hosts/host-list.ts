import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { normalizeMac } from "./mac.js";
import { DEVICE, hostListSchema, isKnownConsole, type RawHost, SAFE_WORD, type SystemSpec } from "./schema.js";
import type { InstallRole } from "./traits.js";

/** One host, validated and normalised: what the generators work from. */
export interface Host {
  readonly hostname: string;
  /** Lower-case, colon-separated. */
  readonly mac: string;
  readonly personality: "controller" | "worker" | "storage";
  readonly role: InstallRole;
  /** The LAT install disk: the boot device, else the rootfs device (pxeboot-update -d forces them equal). */
  readonly installDevice: string;
  /** null: no console= argument. */
  readonly console: string | null;
  readonly hwSettle: number;
  readonly kernelArgs: readonly string[];
  readonly ip?: string;
}

export interface HostList {
  readonly system: SystemSpec;
  readonly hosts: readonly Host[];
}

/** Every problem of a host list at once, one line each, so an integrator fixes them in one pass. */
export class HostListError extends Error {
  override readonly name = "HostListError";
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n  ${problems.join("\n  ")}`);
  }
}

const DEFAULT_CONSOLE = "ttyS0,115200";

function zodProblems(error: z.ZodError, doc: unknown): string[] {
  const fmt = (path: readonly PropertyKey[]) => path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  return error.issues.map((i) => {
    // Inside a host, name it as the other checks do: hosts[3] (worker-0).mac
    if (i.path[0] === "hosts" && typeof i.path[1] === "number") {
      const name = (doc as { hosts?: Array<{ hostname?: unknown }> }).hosts?.[i.path[1]]?.hostname;
      const rest = fmt(i.path.slice(2));
      return `hosts[${i.path[1]}]${typeof name === "string" ? ` (${name})` : ""}${rest}: ${i.message}`;
    }
    return `${fmt(i.path).replace(/^\./, "") || "(top level)"}: ${i.message}`;
  });
}

/** The install role a host gets, or why it cannot have one on this system. */
function roleOf(h: RawHost, system: SystemSpec): InstallRole | string {
  const sub = new Set(h.subfunctions);
  const lowlatency = sub.has("lowlatency");
  const aioSystem = system.type !== "standard";
  switch (h.personality) {
    case "storage":
      if (aioSystem) return `storage hosts need a standard system (this one is ${system.type})`;
      if (sub.has("worker") || sub.has("controller")) return `storage cannot be combined with ${sub.has("worker") ? "worker" : "controller"}`;
      if (lowlatency) return "storage cannot be lowlatency";
      return { nodetype: "storage", aio: false, lowlatency: false };
    case "worker":
      if (sub.has("controller") || sub.has("storage")) return `a worker cannot have subfunction ${sub.has("controller") ? "controller" : "storage"}`;
      if (system.type === "aio-sx") return "an aio-sx system has only its one controller";
      return { nodetype: "worker", aio: false, lowlatency };
    case "controller":
      if (sub.has("storage")) return "controller cannot be combined with storage";
      if (!aioSystem && sub.has("worker")) return "controller,worker is an All-in-one: set system.type to aio-sx or aio-dx";
      if (!aioSystem && lowlatency) return "a standard controller has no lowlatency variant (only All-in-one and worker do)";
      return { nodetype: "controller", aio: aioSystem, lowlatency: aioSystem && lowlatency };
  }
}

function checkHost(h: RawHost, system: SystemSpec, where: string, problems: string[]): Host | undefined {
  const before = problems.length;
  const mac = normalizeMac(h.mac);
  if (!mac) problems.push(`${where}.mac: bad MAC '${h.mac}' (expected six hex pairs like 52:54:00:aa:bb:cc)`);
  else if (mac === "00:00:00:00:00:00" || mac === "ff:ff:ff:ff:ff:ff" || Number.parseInt(mac.slice(0, 2), 16) & 1) {
    problems.push(`${where}.mac: '${h.mac}' is not a host NIC address (zero, broadcast or multicast)`);
  }
  const role = roleOf(h, system);
  if (typeof role === "string") problems.push(`${where}: ${role}`);
  for (const [key, dev] of [
    ["bootDevice", h.bootDevice],
    ["rootfsDevice", h.rootfsDevice],
  ] as const) {
    if (dev !== undefined && !DEVICE.test(dev)) problems.push(`${where}.${key}: '${dev}' is not a /dev path`);
  }
  const installDevice = h.bootDevice || h.rootfsDevice;
  if (!installDevice) problems.push(`${where}: missing device: give bootDevice or rootfsDevice (the installer needs an install disk)`);
  let console: string | null = DEFAULT_CONSOLE;
  if (h.console === null || h.console === "") console = null;
  else if (h.console !== undefined) {
    if (!isKnownConsole(h.console)) problems.push(`${where}.console: unknown console '${h.console}' (expected e.g. ttyS0,115200 or tty0)`);
    console = h.console;
  }
  const kernelArgs = h.kernelArgs.split(/\s+/).filter((a) => a !== "");
  for (const a of kernelArgs) {
    if (!SAFE_WORD.test(a)) problems.push(`${where}.kernelArgs: '${a}' has characters that are unsafe in a boot loader line`);
  }
  if (problems.length > before || !mac || typeof role === "string" || !installDevice) return undefined;
  return {
    hostname: h.hostname,
    mac,
    personality: h.personality,
    role,
    installDevice,
    console,
    hwSettle: h.hwSettle,
    kernelArgs,
    ...(h.ip ? { ip: h.ip } : {}),
  };
}

/** Check a parsed host list document; throws HostListError naming every problem. */
export function validateHostList(doc: unknown, source = "host list"): HostList {
  const parsed = hostListSchema.safeParse(doc);
  if (!parsed.success) throw new HostListError(source, zodProblems(parsed.error, doc));
  const { system, hosts: raw } = parsed.data;
  const problems: string[] = [];
  const hosts: Host[] = [];
  const seen = { mac: new Map<string, string>(), hostname: new Map<string, number>(), ip: new Map<string, string>() };
  raw.forEach((h, i) => {
    const where = `hosts[${i}] (${h.hostname})`;
    const prevName = seen.hostname.get(h.hostname);
    if (prevName !== undefined) problems.push(`${where}: duplicate hostname '${h.hostname}' (also hosts[${prevName}])`);
    seen.hostname.set(h.hostname, i);
    const host = checkHost(h, system, where, problems);
    const mac = normalizeMac(h.mac);
    if (mac) {
      const other = seen.mac.get(mac);
      if (other) problems.push(`${where}: duplicate MAC ${mac} (also ${other})`);
      else seen.mac.set(mac, h.hostname);
    }
    if (h.ip) {
      const other = seen.ip.get(h.ip);
      if (other) problems.push(`${where}: duplicate ip ${h.ip} (also ${other})`);
      else seen.ip.set(h.ip, h.hostname);
    }
    if (host) hosts.push(host);
  });
  const controllers = raw.filter((h) => h.personality === "controller").length;
  if (system.type === "aio-sx" && controllers !== 1) problems.push(`system: an aio-sx system has exactly one controller (found ${controllers})`);
  if (controllers > 2) problems.push(`system: at most two controllers (found ${controllers})`);
  if (problems.length) throw new HostListError(source, problems);
  return { system, hosts };
}

/** Read a YAML or JSON host list file (YAML is a superset of JSON). */
export async function loadHostList(file: string): Promise<HostList> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new HostListError(file, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new HostListError(file, [`not valid YAML/JSON: ${(err as Error).message.split("\n")[0]}`]);
  }
  return validateHostList(doc, file);
}
