/**
 * The default pmon.d set per personality (issue 13; reference mtce-core.md §1.1, §9): mtcClient (active) and
 * hbsClient (active, in the quorum) everywhere, hbsAgent on controllers, guestServer on workers. Active ports
 * follow the reference's 2201/2202 per process. `metal pmon install-conf --personality P` writes them.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatProcessConf } from "./conf.js";

export type PmonPersonality = "controller" | "worker" | "storage";
export const PMON_PERSONALITIES: readonly PmonPersonality[] = ["controller", "worker", "storage"];

/** One conf: the file name and its fields (INI keys of the reference). */
export interface DefaultConf {
  file: string;
  fields: Record<string, string | number | undefined>;
}

const common = { style: "lsb", severity: "major", restarts: 3, interval: 10, debounce: 20, startuptime: 5 };

/** The reference's active-monitor ports of the two node daemons. */
export const AMON_PORTS = { mtcClient: 2201, hbsClient: 2202 } as const;

export function defaultConfs(personality: PmonPersonality, ports: { mtcClient?: number; hbsClient?: number } = {}): DefaultConf[] {
  const daemon = (name: string, extra: Record<string, string | number | undefined>): DefaultConf => ({
    file: `${name}.conf`,
    fields: { process: name, service: name, pidfile: `/var/run/${name}.pid`, script: `/etc/init.d/${name}`, ...common, ...extra },
  });
  const confs = [
    daemon("mtcClient", { mode: "active", port: ports.mtcClient ?? AMON_PORTS.mtcClient, period: 5, timeout: 4, threshold: 5, quorum: 0 }),
    daemon("hbsClient", { mode: "active", port: ports.hbsClient ?? AMON_PORTS.hbsClient, period: 5, timeout: 4, threshold: 5, quorum: 1 }),
  ];
  if (personality === "controller") confs.push(daemon("hbsAgent", { mode: "passive", quorum: 0 }));
  if (personality === "worker") confs.push(daemon("guestServer", { mode: "passive", quorum: 0 }));
  return confs;
}

/** Write the personality's confs into `dir` (created); returns the files written. */
export function installConfs(dir: string, personality: PmonPersonality, extra: (c: DefaultConf) => DefaultConf = (c) => c): string[] {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const c of defaultConfs(personality).map(extra)) {
    const file = join(dir, c.file);
    writeFileSync(file, formatProcessConf(c.fields));
    out.push(file);
  }
  return out;
}
