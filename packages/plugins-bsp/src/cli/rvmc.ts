import { createMetalContainer, SystemClock, silentLogger, Tokens } from "@metal/core";
import { loadCliConfig } from "@metal/core/cli/config-option";
import { CliError } from "@metal/core/cli/errors";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { loadRvmcConfig, RvmcConfigError, selectTargets } from "../rvmc/config.js";
import { RVMC_STEPS, type RvmcReport, runRvmcAll, type StepEvent } from "../rvmc/sequence.js";

/** Step progress: one bar per target on a terminal, one line per step otherwise. */
function stepProgress(targets: readonly string[]): { onStep: (e: StepEvent) => void; stop: () => void } {
  if (!process.stderr.isTTY) {
    return {
      onStep: (e) => {
        if (e.status !== "start") process.stderr.write(`${e.target}: ${e.step} ${e.status}${e.detail ? `: ${e.detail}` : ""}\n`);
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    { stream: process.stderr, format: "{target} [{bar}] {value}/{total} {step}", hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...targets.map((t) => t.length));
  const bars = new Map(targets.map((t) => [t, multi.create(RVMC_STEPS.length, 0, { target: t.padEnd(width), step: "waiting" })]));
  return {
    onStep: (e) => {
      const bar = bars.get(e.target);
      const n = RVMC_STEPS.indexOf(e.step) + (e.status === "start" ? 0 : 1);
      bar?.update(n, { step: e.status === "start" ? `${e.step}...` : `${e.step} ${e.status}` });
    },
    stop: () => multi.stop(),
  };
}

/** `metal bsp rvmc --config F [--target a,b] [--parallel N] [--json]` */
export function rvmcCommand(bsp: Command): void {
  bsp
    .command("rvmc")
    .description("virtual-media install: insert an ISO through the BMC plugin, boot it once from CD, power on (several targets in parallel)")
    .requiredOption("-c, --config <file>", "rvmc.yaml: one target, or several under virtual_media_iso (passwords base64; file mode 0600)")
    .option("--target <names>", "comma list of targets under virtual_media_iso (default: all)")
    .option("--parallel <n>", "targets installed at once", "8")
    .option("--metal-config <file>", "metal config (which plugins to load)")
    .option("--json", "print the per-target reports as JSON")
    .action(async (opts: { config: string; target?: string; parallel: string; metalConfig?: string; json?: boolean }) => {
      const parallel = Number(opts.parallel);
      if (!Number.isInteger(parallel) || parallel < 1 || parallel > 256) throw new CliError(`--parallel must be an integer 1..256 (got '${opts.parallel}')`);
      let targets: ReturnType<typeof selectTargets>;
      let timing: Awaited<ReturnType<typeof loadRvmcConfig>>["timing"];
      try {
        const config = await loadRvmcConfig(opts.config);
        targets = selectTargets(config, opts.target);
        timing = config.timing;
      } catch (err) {
        if (err instanceof RvmcConfigError) throw new CliError(err.message);
        throw err;
      }
      const container = await createMetalContainer({ config: await loadCliConfig(opts.metalConfig), logger: silentLogger() });
      const registry = container.resolve(Tokens.BmcRegistry);
      const progress = stepProgress(targets.map((t) => t.name));
      let reports: RvmcReport[];
      try {
        reports = await runRvmcAll(targets, timing, { registry, clock: new SystemClock(), onStep: progress.onStep }, parallel);
      } finally {
        progress.stop();
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
      else for (const r of reports) process.stdout.write(r.ok ? `${r.target}: installed from virtual media (boot mode ${r.bootMode})\n` : `${r.error}\n`);
      const failed = reports.filter((r) => !r.ok);
      if (failed.length)
        throw new CliError(`${failed.length} of ${reports.length} target(s) failed: ${failed.map((f) => `${f.target} at ${f.failedStep}`).join(", ")}`, 1);
    });
}
