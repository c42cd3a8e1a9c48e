/**
 * A multi-host network for tests, made of Linux network namespaces (iproute2): one namespace per host, a
 * management and a cluster-host bridge in the root namespace joining them, and an address for the test itself
 * on the management bridge (it plays the mtcAgent / floating controller). Names carry the pid, so concurrent
 * runs never meet; `destroy()` removes everything and is safe to call after a partial setup.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface LabHost {
  hostname: string;
  /** Last octet of the host's addresses on both networks. */
  octet: number;
  ns: string;
  mgmtIp: string;
  clusterHostIp: string;
}

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
}

function ipQuiet(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already gone
  }
}

/** Fails loudly (throws) when this machine cannot create namespaces: the test must not pass without them. */
export function requireNetns(): void {
  if (process.getuid?.() !== 0) throw new Error("the network-namespace test needs root (CI runs as root); refusing to skip");
  try {
    ip("-V");
  } catch (err) {
    throw new Error(`iproute2 'ip' is missing (scripts/setup.sh peers installs it): ${(err as Error).message}`);
  }
}

export class NetnsLab {
  readonly id: string;
  readonly mgmtBridge: string;
  readonly clstrBridge: string;
  readonly mgmtNet: string;
  readonly clstrNet: string;
  /** The test's own address on the management bridge. */
  readonly testIp: string;
  readonly hosts: LabHost[] = [];
  private readonly procs: ChildProcess[] = [];
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];

  /** `nets`: the first two octets of each network; each test file takes its own pair so concurrent files never share a subnet. */
  constructor(
    readonly dir: string,
    nets: { mgmt: string; clusterHost: string },
    pid = process.pid,
  ) {
    this.id = `${pid}`;
    this.mgmtBridge = `hbm${pid}`.slice(0, 15);
    this.clstrBridge = `hbc${pid}`.slice(0, 15);
    const third = (pid % 250) + 1;
    this.mgmtNet = `${nets.mgmt}.${third}`;
    this.clstrNet = `${nets.clusterHost}.${third}`;
    this.testIp = `${this.mgmtNet}.254`;
  }

  /** Both bridges, with multicast snooping off so the pulse group reaches every port. */
  createBridges(): void {
    for (const br of [this.mgmtBridge, this.clstrBridge]) {
      ip("link", "add", br, "type", "bridge");
      this.links.push(br);
      ip("link", "set", br, "type", "bridge", "mcast_snooping", "0");
      ip("link", "set", br, "up");
    }
    ip("addr", "add", `${this.testIp}/24`, "dev", this.mgmtBridge);
  }

  addHost(hostname: string, octet: number): LabHost {
    const ns = `metal-hb-${this.id}-${hostname}`;
    ip("netns", "add", ns);
    this.namespaces.push(ns);
    ip("-n", ns, "link", "set", "lo", "up");
    const n = this.hosts.length;
    for (const [net, br, ifname, prefix] of [
      ["m", this.mgmtBridge, "mgmt0", this.mgmtNet],
      ["c", this.clstrBridge, "clstr0", this.clstrNet],
    ] as const) {
      const outer = `h${net}${this.id}x${n}`.slice(0, 15);
      ip("link", "add", outer, "type", "veth", "peer", "name", ifname, "netns", ns);
      this.links.push(outer);
      ip("link", "set", outer, "master", br, "up");
      ip("-n", ns, "addr", "add", `${prefix}.${octet}/24`, "dev", ifname);
      ip("-n", ns, "link", "set", ifname, "up");
    }
    const host: LabHost = { hostname, octet, ns, mgmtIp: `${this.mgmtNet}.${octet}`, clusterHostIp: `${this.clstrNet}.${octet}` };
    this.hosts.push(host);
    return host;
  }

  host(hostname: string): LabHost {
    const h = this.hosts.find((x) => x.hostname === hostname);
    if (!h) throw new Error(`no lab host ${hostname}`);
    return h;
  }

  /** Cut (down) or heal (up) a host's link on one network, from inside its namespace. */
  link(hostname: string, network: "mgmt" | "clusterHost", state: "up" | "down"): void {
    ip("-n", this.host(hostname).ns, "link", "set", network === "mgmt" ? "mgmt0" : "clstr0", state);
  }

  writeConfig(name: string, config: unknown): string {
    const file = join(this.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
    return file;
  }

  /** Run a process inside a host's namespace; stdout/stderr go to a log file in the lab dir. */
  spawnIn(hostname: string, name: string, argv: string[]): ChildProcess {
    mkdirSync(this.dir, { recursive: true });
    const log = createWriteStream(join(this.dir, `${name}.log`));
    const p = spawn("ip", ["netns", "exec", this.host(hostname).ns, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    p.stdout?.pipe(log);
    p.stderr?.pipe(log);
    this.procs.push(p);
    return p;
  }

  /** Run a command inside a namespace to completion and return its stdout. */
  execIn(hostname: string, argv: string[], timeoutMs = 30_000): string {
    return execFileSync("ip", ["netns", "exec", this.host(hostname).ns, ...argv], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] });
  }

  logTail(name: string, lines = 20): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), "utf8")
        .trim()
        .split("\n")
        .slice(-lines)
        .join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Stop every process we started, then remove namespaces (their veth ends go with them) and bridges. */
  async destroy(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    const deadline = Date.now() + 3000;
    while (this.procs.some((p) => p.exitCode === null && p.signalCode === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    for (const ns of this.namespaces.splice(0)) ipQuiet("netns", "del", ns);
    for (const l of this.links.splice(0).reverse()) ipQuiet("link", "del", l);
  }

  /** Whether anything of this lab is still on the machine (for the cleanup assertion). */
  leftovers(): string[] {
    const left: string[] = [];
    const nss = ip("netns", "list");
    for (const h of this.hosts) if (nss.includes(h.ns)) left.push(h.ns);
    const links = ip("-o", "link", "show");
    for (const br of [this.mgmtBridge, this.clstrBridge]) if (links.includes(`${br}:`)) left.push(br);
    return left;
  }
}
