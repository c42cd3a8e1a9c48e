import { readFile, stat } from "node:fs/promises";
import { secretFromString } from "@metal/core";
import type { BmcTarget } from "@metal/core/plugin-api";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/**
 * The RVMC config (reference B.12, /etc/rvmc.yaml): either one target at the top level or several under
 * `virtual_media_iso: {<name>: {...}}`. Passwords are base64, as in the original; base64 is not
 * encryption, so the file must be readable by its owner only (it is refused otherwise).
 * metal adds a few optional keys: which BMC protocol (the plugin that drives it), port, scheme, TLS, and
 * the retry and poll timings (the reference's constants by default).
 */
const targetSchema = z
  .object({
    bmc_address: z.string().min(1).max(253),
    bmc_username: z.string().min(1).max(64),
    bmc_password: z.string().min(1).max(1024),
    image: z.string().regex(/^(https?|nfs|cifs):\/\/\S+$/, "must be an http(s), nfs or cifs URL"),
    bmc_protocol: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,31}$/)
      .default("redfish"),
    bmc_port: z.number().int().min(1).max(65535).optional(),
    bmc_scheme: z.enum(["https", "http"]).optional(),
    insecure: z.boolean().optional(),
    ca_file: z.string().optional(),
    /** Driver knobs passed through as BmcTarget.options (e.g. the Redfish plugin's pollMs). */
    bmc_options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict();

const timingSchema = {
  /** Between polls of a state the BMC is moving to (RETRY_DELAY_SECS). */
  poll_interval_s: z.number().min(0).max(600).default(10),
  /** Polls before a wait gives up (MAX_POLL_COUNT). */
  max_poll_count: z.number().int().min(1).max(10_000).default(200),
  /** Attempts of a step that failed with a transient fault (the original's 5 x 10 s for HTTP). */
  retries: z.number().int().min(1).max(20).default(5),
  retry_delay_s: z.number().min(0).max(600).default(10),
  /** Attempts to connect and log in (3 x 15 s). */
  connect_retries: z.number().int().min(1).max(20).default(3),
  connect_delay_s: z.number().min(0).max(600).default(15),
  /** A power action must show within this (RVMC_POWER_ACTION_TIMEOUT, 840 s). */
  power_action_timeout_s: z.number().min(0).max(7200).optional(),
};

const fileSchema = z.union([
  targetSchema.extend(timingSchema).strict(),
  z
    .object({
      virtual_media_iso: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "target names are letters, digits, _ . -"), targetSchema),
      ...timingSchema,
    })
    .strict(),
]);

export interface RvmcTiming {
  pollIntervalMs: number;
  maxPollCount: number;
  retries: number;
  retryDelayMs: number;
  connectRetries: number;
  connectDelayMs: number;
  powerActionTimeoutMs: number;
}

export interface RvmcTarget {
  readonly name: string;
  readonly protocol: string;
  readonly bmc: BmcTarget;
  readonly image: string;
}

export interface RvmcConfig {
  readonly targets: readonly RvmcTarget[];
  readonly timing: RvmcTiming;
}

export class RvmcConfigError extends Error {
  override readonly name = "RvmcConfigError";
}

function decodePassword(b64: string, where: string): string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new RvmcConfigError(`${where}.bmc_password: not base64`);
  return Buffer.from(b64, "base64").toString("utf8");
}

function toTarget(name: string, t: z.output<typeof targetSchema>): RvmcTarget {
  const options: Record<string, string | number | boolean> = { ...t.bmc_options };
  if (t.bmc_scheme) options.scheme = t.bmc_scheme;
  return {
    name,
    protocol: t.bmc_protocol,
    image: t.image,
    bmc: {
      host: name,
      address: t.bmc_address,
      ...(t.bmc_port ? { port: t.bmc_port } : {}),
      username: t.bmc_username,
      password: secretFromString(decodePassword(t.bmc_password, name)),
      ...(t.insecure ? { insecure: true } : {}),
      ...(t.ca_file ? { caFile: t.ca_file } : {}),
      options,
    },
  };
}

/** Parse a config document; `env` supplies RVMC_POWER_ACTION_TIMEOUT as in the original. */
export function parseRvmcConfig(doc: unknown, source = "rvmc config", env: NodeJS.ProcessEnv = {}): RvmcConfig {
  const r = fileSchema.safeParse(doc);
  if (!r.success) {
    // A union reports both branches; the deepest issues say the most.
    const issues = r.error.issues.flatMap((i) => ("errors" in i && Array.isArray(i.errors) ? (i.errors as z.core.$ZodIssue[][]).flat() : [i]));
    const lines = [...new Set(issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`))];
    throw new RvmcConfigError(`${source}: ${lines.join("; ")}`);
  }
  const d = r.data;
  const targets = "virtual_media_iso" in d ? Object.entries(d.virtual_media_iso).map(([name, t]) => toTarget(name, t)) : [toTarget("default", d)];
  if (targets.length === 0) throw new RvmcConfigError(`${source}: virtual_media_iso names no target`);
  const envTimeout = env.RVMC_POWER_ACTION_TIMEOUT;
  if (envTimeout !== undefined && !/^\d+$/.test(envTimeout)) throw new RvmcConfigError(`RVMC_POWER_ACTION_TIMEOUT must be whole seconds (got '${envTimeout}')`);
  const powerS = d.power_action_timeout_s ?? (envTimeout !== undefined ? Number(envTimeout) : 840);
  return {
    targets,
    timing: {
      pollIntervalMs: d.poll_interval_s * 1000,
      maxPollCount: d.max_poll_count,
      retries: d.retries,
      retryDelayMs: d.retry_delay_s * 1000,
      connectRetries: d.connect_retries,
      connectDelayMs: d.connect_delay_s * 1000,
      powerActionTimeoutMs: powerS * 1000,
    },
  };
}

/** Read the config file; refuse one that others can read, since it holds BMC passwords. */
export async function loadRvmcConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<RvmcConfig> {
  let text: string;
  try {
    const st = await stat(file);
    if ((st.mode & 0o077) !== 0)
      throw new RvmcConfigError(`${file}: permissions ${(st.mode & 0o777).toString(8)} are too open for a file with BMC passwords; use chmod 600`);
    text = await readFile(file, "utf8");
  } catch (err) {
    if (err instanceof RvmcConfigError) throw err;
    throw new RvmcConfigError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new RvmcConfigError(`${file}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  return parseRvmcConfig(doc, file, env);
}

/** `--target a,b`: the named targets, in that order; an unknown name is an error. */
export function selectTargets(config: RvmcConfig, names: string | undefined): RvmcTarget[] {
  if (!names) return [...config.targets];
  return names
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "")
    .map((n) => {
      const t = config.targets.find((x) => x.name === n);
      if (!t) throw new RvmcConfigError(`--target ${n}: no such target (have ${config.targets.map((x) => x.name).join(", ")})`);
      return t;
    });
}
