import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { configSchema, type MetalConfig, type MetalConfigInput } from "./schema.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.join("; ")}`);
  }
}

/** One line per problem: `heartbeat.periodMs: heartbeat period must be 100..1000 ms (got 50)`. */
function describe(issue: z.core.$ZodIssue, input: unknown): string {
  const path = issue.path.length ? issue.path.join(".") : "(top level)";
  let got: unknown = input;
  for (const key of issue.path) {
    got = got && typeof got === "object" ? (got as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined;
  }
  const shown = got === undefined ? "" : ` (got ${JSON.stringify(got)?.slice(0, 60)})`;
  if (issue.code === "unrecognized_keys") return `${path}: unknown key(s) ${issue.keys.join(", ")}`;
  return `${path}: ${issue.message}${issue.code === "invalid_type" || issue.code === "too_small" || issue.code === "too_big" || issue.code === "invalid_value" || issue.code === "invalid_format" ? shown : ""}`;
}

/** Validate an in-memory config object; defaults fill every field the input leaves out. */
export function parseConfig(input: unknown, source = "config"): MetalConfig {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success)
    throw new ConfigError(
      source,
      result.error.issues.map((i) => describe(i, input)),
    );
  return result.data;
}

/** Read and validate a YAML or JSON config file (YAML is a superset of JSON). */
export async function loadConfigFile(path: string): Promise<MetalConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(path, [`not valid YAML/JSON: ${(err as Error).message.split("\n")[0]}`]);
  }
  if (raw !== null && raw !== undefined && (typeof raw !== "object" || Array.isArray(raw))) {
    throw new ConfigError(path, ["the top level must be a mapping"]);
  }
  return relativeToFile(parseConfig(raw, path), path);
}

/**
 * Paths in a config file that name plugin packages are relative to the file, not to where the command runs
 * (the conformance runner, a daemon started by systemd): `plugins.load` directories and `plugins.paths` become
 * absolute, and the file's own directory is the first of `plugins.paths`.
 */
function relativeToFile(config: MetalConfig, file: string): MetalConfig {
  const dir = dirname(resolve(file));
  const isDir = (ref: string) => isAbsolute(ref) || ref.startsWith(".");
  const paths = [dir, ...config.plugins.paths.map((p) => resolve(dir, p))];
  return {
    ...config,
    plugins: { ...config.plugins, load: config.plugins.load.map((ref) => (isDir(ref) ? resolve(dir, ref) : ref)), paths: [...new Set(paths)] },
  };
}

export function defaultConfig(overrides: MetalConfigInput = {}): MetalConfig {
  return parseConfig(overrides, "defaults");
}
