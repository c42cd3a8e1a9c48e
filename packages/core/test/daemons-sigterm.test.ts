/**
 * Issue 11 "Signals": SIGTERM ends every daemon (exit 0, one line saying so) within 2 s, and an agent with an
 * ipmitool call in flight leaves no ipmitool behind. Real processes, real signals, a real ipmitool talking to a
 * BMC address that never answers. The 2 s of the issue is reported (t.log), not asserted: on a loaded CI machine
 * the bound is generous (15 s), and what is asserted is the exit, its code, the line and no orphan.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { freeUdpPorts } from "../src/transport/free-ports.js";
import { METAL_MAIN } from "./helpers/client-process.js";
import { AgentProcess } from "./support/agent-process.js";

const STOP_BOUND_MS = 15_000;

/** Every live process whose parent is `ppid`, with its command name. */
function childrenOf(ppid: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      if (Number(fields[1]) === ppid) out.push({ pid: Number(e), comm: stat.slice(stat.indexOf("(") + 1, close) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Processes running `comm` whose command line mentions `needle` (an ipmitool reparented to init after its agent died). */
function processesWith(comm: string, needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/comm`, "utf8").trim() !== comm) continue;
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").join(" ").includes(needle)) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, limitMs = 120_000): Promise<T> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Stopped {
  code: number | null | string;
  ms: number;
}

/** SIGTERM `p` and wait (bounded) for its exit. */
async function terminate(p: ChildProcess): Promise<Stopped> {
  const exited = new Promise<number | null>((r) => p.once("exit", (code) => r(code)));
  const t0 = Date.now();
  p.kill("SIGTERM");
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), STOP_BOUND_MS))]);
  return { code, ms: Date.now() - t0 };
}

/** Lines of a daemon's output that say it is stopping on a signal. */
const stopLines = (out: string) => out.split("\n").filter((l) => /stopping \(SIGTERM\)/.test(l));

interface DaemonCase {
  name: string;
  args: (cfg: string, dir: string) => string[];
  /** What the daemon logs once it is up. */
  ready: RegExp;
}

const daemons: DaemonCase[] = [
  { name: "hbs-client", args: (cfg) => ["hbs-client", "--config", cfg], ready: /hbsClient started/ },
  { name: "hbs-agent", args: (cfg) => ["hbs-agent", "--config", cfg], ready: /hbsAgent started/ },
  { name: "pmon", args: (cfg) => ["pmon", "--config", cfg], ready: /pmond started/ },
  { name: "hostwd", args: (cfg) => ["hostwd", "--config", cfg], ready: /hostwd started/ },
  { name: "guest-server", args: (cfg, dir) => ["guest-server", "--config", cfg, "--channel-dir", join(dir, "channels")], ready: /guestServer started/ },
  { name: "guest-agent", args: (cfg) => ["guest-agent", "--config", cfg], ready: /guestAgent started/ },
];

for (const d of daemons) {
  test(`metal ${d.name}: SIGTERM ends it, exit 0, one line`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), `metal-term-${d.name}-`));
    const root = join(dir, "root");
    mkdirSync(join(root, "etc/pmon.d"), { recursive: true });
    mkdirSync(join(root, "var/run"), { recursive: true });
    mkdirSync(join(dir, "channels"));
    const names = [
      "agentMgmt",
      "agentPxeboot",
      "clientMgmt",
      "clientClstr",
      "clientPxeboot",
      "hbsAgentMgmt",
      "hbsAgentClstr",
      "hbsCmd",
      "hbsClientMgmt",
      "hbsClientClstr",
      "hbsEvent",
      "guestCmd",
      "pmonPulse",
      "invEvent",
      "hwmonCmd",
      "mtcalarm",
      "smServer",
      "smClient",
    ];
    const free = await freeUdpPorts(names.length + 4);
    const ports = Object.fromEntries(names.map((n, i) => [n, free[i]]));
    const [amonPort, guestServer, guestAgent, guestApi] = free.slice(names.length) as [number, number, number, number];
    const cfg = join(dir, "cfg.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        root,
        node: { hostname: "worker-0" },
        networks: { mgmt: { address: "127.0.0.1", controller: "127.0.0.1" } },
        ports,
        heartbeat: { mode: "unicast" },
        pmon: { loopbackAddress: "127.0.0.1", amonPort },
        guest: { server: { port: guestServer }, agent: { port: guestAgent, apiPort: guestApi } },
        logging: { level: "info" },
      }),
    );
    const p = spawn(process.execPath, [METAL_MAIN, ...d.args(cfg, dir)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    for (const s of [p.stdout, p.stderr]) s?.on("data", (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
    t.teardown(() => {
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    });
    await until(`${d.name} to start`, () =>
      d.ready.test(out) ? true : p.exitCode !== null ? Promise.reject(new Error(`exited ${p.exitCode}: ${out}`)) : undefined,
    );
    const stopped = await terminate(p);
    t.log(`metal ${d.name} exited ${stopped.ms} ms after SIGTERM (issue 11: within 2 s)`);
    t.is(stopped.code, 0, out.slice(-3000));
    t.is(stopLines(out).length, 1, `one stop line:\n${out.slice(-3000)}`);
  });
}

test("metal agent with an ipmitool call in flight: SIGTERM ends it, exit 0, one line, no ipmitool left behind", async (t) => {
  // The BMC: a UDP port that takes RMCP+ packets and never answers, so ipmitool waits out its retries.
  const silent: Socket = createSocket("udp4");
  await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
  const bmcPort = silent.address().port;
  const a = await AgentProcess.create((c) => {
    delete (c.plugins as Record<string, unknown>).discover;
    c.timeouts = { cmdResponse: 1, hostAddDelay: 1 };
    c.security = { allowSecretPaths: [] };
  });
  const secrets = join(a.dir, "secrets");
  mkdirSync(secrets, { mode: 0o700 });
  (a.config.security as { allowSecretPaths: string[] }).allowSecretPaths = [secrets];
  a.writeConfig();
  const pw = join(secrets, "bmc.pw");
  writeFileSync(pw, "never-on-a-command-line");
  chmodSync(pw, 0o600);
  t.teardown(async () => {
    await a.dispose();
    silent.close();
    for (const pid of processesWith("ipmitool", `-p ${bmcPort}`)) process.kill(pid, "SIGKILL");
  });
  await a.start();
  const add = await a.request("POST", "/v1/hosts", {
    hostname: "worker-0",
    personality: "worker",
    mgmtIp: "127.0.9.10",
    administrative: "locked",
    bmc: { type: "ipmi", address: "127.0.0.1", port: bmcPort, username: "admin", secretRef: pw },
  });
  t.is(add.status, 201, JSON.stringify(add.body));
  const agentPid = a.proc?.pid as number;
  // The access monitor's first power query runs ipmitool against the silent BMC.
  await until("an ipmitool child of the agent", () => (childrenOf(agentPid).some((c) => c.comm === "ipmitool") ? true : undefined));
  const t0 = Date.now();
  const stopped = await a.stop("SIGTERM", STOP_BOUND_MS);
  t.log(`metal agent (ipmitool in flight) exited ${stopped.ms} ms after SIGTERM (issue 11: within 2 s)`);
  t.is(stopped.code, 0, a.output.slice(-3000));
  t.true(Date.now() - t0 < STOP_BOUND_MS);
  t.is(stopLines(a.output).length, 1, `one stop line:\n${a.output.slice(-3000)}`);
  // No ipmitool of this agent survives it (an orphan would be reparented, so look by its BMC port).
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(processesWith("ipmitool", `-p ${bmcPort}`), [], "no ipmitool left behind");
  t.deepEqual(
    readdirSync(tmpdir()).filter((n) => n.startsWith(`metal-ipmi-${agentPid}-`)),
    [],
    "its password dir is removed",
  );
});
