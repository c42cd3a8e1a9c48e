import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionContext } from "ava";
import { SystemClock } from "../../src/clock/system-clock.js";
import { defaultConfig, type MetalConfig, type MetalConfigInput } from "../../src/config/index.js";
import { silentLogger } from "../../src/logging/logger.js";
import { formatProcessConf } from "../../src/pmon/conf.js";
import { decodePmonEvent, type PmonEvent } from "../../src/pmon/pmon-messages.js";
import { Pmond } from "../../src/pmon/pmond.js";
import { eventually } from "./client-process.js";
import { freeUdpPorts, Peer } from "./udp.js";

/**
 * A pmond in this process (system clock, real child processes) with a UDP peer standing in for the mtcAgent
 * (every pmon event decoded into `events`). Monitoring starts at once (goenabled present, start_delay 0) and the
 * audit runs every 10 ms. Everything is removed in teardown, monitored processes included.
 */
export interface PmonRig {
  root: string;
  config: MetalConfig;
  pmond: Pmond;
  agent: Peer;
  events: PmonEvent[];
  confDir: string;
  writeConf(name: string, fields: Record<string, string | number | undefined>): string;
  pids: Set<number>;
  waitEvent(pred: (e: PmonEvent) => boolean, timeoutMs?: number): Promise<PmonEvent>;
}

export async function pmonRig(t: ExecutionContext, o: { config?: MetalConfigInput; goenabled?: boolean } = {}): Promise<PmonRig> {
  const root = mkdtempSync(join(tmpdir(), "metal-pmon-"));
  const [amonPort, pulsePort] = await freeUdpPorts(2);
  const agent = await Peer.bind("127.0.0.1");
  const config = defaultConfig({
    root,
    node: { hostname: "worker-3", subfunctions: ["worker"] },
    networks: { mgmt: { address: "127.0.0.1", controller: "127.0.0.1" } },
    ...o.config,
    ports: { agentMgmt: agent.port, pmonPulse: pulsePort as number, ...o.config?.ports },
    pmon: { startDelay: 0, auditPeriodMs: 100, amonPort: amonPort as number, recovery: "script", degradeRefreshMs: 60_000, ...o.config?.pmon },
  });
  const confDir = join(root, "etc/pmon.d");
  mkdirSync(confDir, { recursive: true });
  mkdirSync(join(root, "var/run"), { recursive: true });
  if (o.goenabled !== false) writeFileSync(join(root, "var/run/goenabled"), "");
  const pmond = new Pmond({ config, clock: new SystemClock(), logger: silentLogger() });
  const events: PmonEvent[] = [];
  const pids = new Set<number>();
  agent.socket.on("message", (data) => {
    const d = decodePmonEvent(data);
    if (d.ok) events.push(d.value);
  });
  t.teardown(async () => {
    for (const p of pmond.status().processes) if (p.pid) pids.add(p.pid);
    await pmond.stop({ killChildren: true });
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    agent.close();
    rmSync(root, { recursive: true, force: true });
  });
  return {
    root,
    config,
    pmond,
    agent,
    events,
    confDir,
    pids,
    writeConf(name, fields) {
      const file = join(confDir, `${name}.conf`);
      writeFileSync(file, formatProcessConf({ process: name, ...fields }));
      return file;
    },
    async waitEvent(pred, timeoutMs = 20_000) {
      const ok = await eventually(() => events.some(pred), timeoutMs);
      const hit = events.find(pred);
      if (!ok || !hit) throw new Error(`no matching pmon event within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
      return hit;
    },
  };
}

/** An LSB init script that starts `sleep` in the background and writes its pidfile (root-relative paths). */
export function sleeperScript(root: string, name: string): { script: string; pidfile: string } {
  const script = join(root, "etc/init.d", name);
  const pidfile = join(root, "var/run", `${name}.pid`);
  mkdirSync(join(root, "etc/init.d"), { recursive: true });
  writeFileSync(
    script,
    `#!/bin/sh\ncase "$1" in\n  start) sleep 300 >/dev/null 2>&1 & echo $! > "${pidfile}" ;;\n  stop) kill "$(cat "${pidfile}")" ;;\nesac\nexit 0\n`,
    { mode: 0o755 },
  );
  return { script: `/etc/init.d/${name}`, pidfile: `/var/run/${name}.pid` };
}
