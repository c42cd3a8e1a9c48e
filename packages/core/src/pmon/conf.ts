/**
 * One `/etc/pmon.d/*.conf` file (reference mtce-core.md §9, pmonInit.cpp): a `[process]` section with the
 * keys the reference lists. Parsed with `ini` (npm's own INI parser: it strips the `;`/`#` inline comments the
 * shipped files use). Paths in a conf are node paths and resolve under the config's root.
 */
import { join } from "node:path";
import { parse } from "ini";
import { z } from "zod";

/** MAX_PROCESS_NAME_LEN. */
export const MAX_PROCESS_NAME_LEN = 64;
/** MAX_PROCESSES: one pmond monitors at most this many processes. */
export const MAX_PROCESSES = 100;

export type PmonMode = "passive" | "active" | "status" | "ignore";
export type PmonSeverity = "minor" | "major" | "critical";

/** A validated process conf. Times in seconds as in the file. */
export interface ProcessConf {
  /** The conf file it came from. */
  file: string;
  process: string;
  service?: string;
  /** The init script, resolved under the root. */
  script?: string;
  style: "lsb" | "ocf";
  /** Resolved under the root. */
  pidfile?: string;
  severity: PmonSeverity;
  restarts: number;
  interval: number;
  debounce: number;
  startuptime: number;
  mode: PmonMode;
  subfunction?: string;
  quorum: boolean;
  fullInitReqd: boolean;
  /** Active mode: the process's amon port, ping period, reply timeout, back-to-back misses before a failure. */
  port?: number;
  period: number;
  timeout: number;
  threshold: number;
  /** Status mode. */
  startArg: string;
  statusArg: string;
  /** A file whose text says why the status check failed (resolved under the root). */
  statusFailureText?: string;
  /**
   * metal extension (not in the reference): a command line pmond itself starts the process with when the node
   * has no init system to do it (the lab). pmond writes the pidfile and learns of the child's exit at once.
   */
  command?: string[];
}

/** A conf that cannot be used; `code` is stable. */
export class PmonConfError extends Error {
  readonly code = "PMON_CONF_INVALID";
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = "PmonConfError";
  }
}

const int = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, "expected a whole number").transform(Number).pipe(z.number().int().min(min).max(max));

const section = z
  .object({
    process: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, "letters, digits, '.', '_', '@', '-'")
      .max(MAX_PROCESS_NAME_LEN),
    service: z.string().trim().min(1).max(128).optional(),
    script: z.string().trim().min(1).max(1024).optional(),
    style: z.enum(["lsb", "ocf"]).default("lsb"),
    pidfile: z.string().trim().min(1).max(1024).optional(),
    severity: z.enum(["minor", "major", "critical"]).default("major"),
    restarts: int(0, 1000).default(3),
    interval: int(0, 3600).default(10),
    debounce: int(0, 3600).default(20),
    startuptime: int(0, 3600).default(5),
    mode: z.enum(["passive", "active", "status", "ignore"]).default("passive"),
    subfunction: z.string().trim().min(1).max(64).optional(),
    quorum: int(0, 1).default(0),
    full_init_reqd: int(0, 1).default(0),
    port: int(1, 65535).optional(),
    period: int(1, 3600).default(5),
    timeout: int(1, 3600).default(4),
    threshold: int(1, 1000).default(5),
    start_arg: z.string().trim().min(1).max(64).default("start"),
    status_arg: z.string().trim().min(1).max(64).default("status"),
    status_failure_text: z.string().trim().min(1).max(1024).optional(),
    command: z.string().trim().min(1).max(4096).optional(),
  })
  .passthrough();

/** A conf path under the node's root; one whose '..' climbs out of the root is refused (PMON_CONF_INVALID). */
function rooted(file: string, key: string, root: string, p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  if (root === "/" || !p.startsWith("/")) return p;
  const full = join(root, p);
  const top = join(root, "/");
  if (full !== join(root) && !full.startsWith(top)) throw new PmonConfError(file, `${key}: '${p}' climbs out of the node's root`);
  return full;
}

/**
 * Parse and validate one conf file's text. Throws PmonConfError (code PMON_CONF_INVALID) naming the file and the
 * first bad key. Unknown keys are ignored, as the original does.
 */
export function parseProcessConf(text: string, file: string, root = "/"): ProcessConf {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new PmonConfError(file, `not an INI file: ${(err as Error).message}`);
  }
  const raw = doc.process;
  if (!raw || typeof raw !== "object") throw new PmonConfError(file, "no [process] section");
  const strings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    // ini gives booleans for bare keys and arrays for `key[]`; the reference's keys are all scalar strings.
    if (typeof v === "string") strings[k] = v;
    else if (typeof v === "boolean") strings[k] = v ? "1" : "0";
  }
  const r = section.safeParse(strings);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new PmonConfError(file, `${issue?.path.join(".") || "[process]"}: ${issue?.message ?? "invalid"}`);
  }
  const v = r.data;
  if (v.mode === "active" && v.port === undefined) throw new PmonConfError(file, "mode active needs a port");
  if (v.mode === "status" && !v.script) throw new PmonConfError(file, "mode status needs a script");
  const conf: ProcessConf = {
    file,
    process: v.process,
    style: v.style,
    severity: v.severity,
    restarts: v.restarts,
    interval: v.interval,
    debounce: v.debounce,
    startuptime: v.startuptime,
    mode: v.mode,
    quorum: v.quorum === 1,
    fullInitReqd: v.full_init_reqd === 1,
    period: v.period,
    timeout: Math.min(v.timeout, v.period),
    threshold: v.threshold,
    startArg: v.start_arg,
    statusArg: v.status_arg,
  };
  if (v.service) conf.service = v.service;
  if (v.script) conf.script = rooted(file, "script", root, v.script) as string;
  if (v.pidfile) conf.pidfile = rooted(file, "pidfile", root, v.pidfile) as string;
  if (v.subfunction) conf.subfunction = v.subfunction;
  if (v.port !== undefined) conf.port = v.port;
  if (v.status_failure_text) conf.statusFailureText = rooted(file, "status_failure_text", root, v.status_failure_text) as string;
  if (v.command) conf.command = v.command.split(/\s+/);
  return conf;
}

/** Render a conf back to INI text (install-conf and tests write files with it). */
export function formatProcessConf(fields: Record<string, string | number | undefined>): string {
  const lines = ["[process]"];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) lines.push(`${k.padEnd(20)} = ${v}`);
  return `${lines.join("\n")}\n`;
}
