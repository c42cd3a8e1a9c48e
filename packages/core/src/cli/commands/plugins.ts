import type { Command } from "commander";
import { createMetalContainer, loadConfiguredPlugins } from "../../di/container.js";
import { discoverPlugins, discoveryOptionsFor } from "../../di/discovery.js";
import { checkManifest } from "../../di/loader.js";
import { silentLogger } from "../../logging/logger.js";
import type { LoadedPlugin } from "../../plugin-api/plugin.js";
import { loadCliConfig } from "../config-option.js";
import { type OutputOptions, printList, withOutputOptions } from "../output.js";

/** `metal plugins [-f FORMAT] [--column NAME]`: every discovered plugin with its API version and capabilities. */
export function pluginsCommand(program: Command): void {
  withOutputOptions(program.command("plugins").description("list discovered plugins: name, plugin API version, what they provide, BMC capabilities"))
    .option("-c, --config <file>", "config file (plugins.load, plugins.discover)")
    .action(async (opts: OutputOptions & { config?: string }) => {
      const config = await loadCliConfig(opts.config);
      const { plugins: imported, errors } = await loadConfiguredPlugins(config);
      // Each plugin's register() runs (in a throw-away container): one that registers less than it declares is
      // refused, as every daemon would refuse it, not listed as loaded.
      const refusedAtRegister: Array<{ plugin: LoadedPlugin; reason: string }> = [];
      await createMetalContainer({
        config,
        plugins: imported,
        logger: silentLogger(),
        onRefused: (plugin, err) => {
          refusedAtRegister.push({ plugin, reason: err.message });
          errors.push(err);
        },
      });
      const plugins = imported.filter((p) => !refusedAtRegister.some((r) => r.plugin === p));
      const rows = plugins.map((p) => ({
        name: p.name,
        version: p.version,
        api: p.api,
        provides: p.provides,
        capabilities: p.capabilities,
        source: p.source,
        status: "loaded" as const,
      }));
      // Refused plugins are listed too, with the reason, so an operator sees why one is missing.
      const { candidates } = discoverPlugins(discoveryOptionsFor(config.plugins));
      const refused = candidates
        .filter((c) => !plugins.some((p) => p.name === c.name))
        .map((c) => {
          let reason = errors.find((e) => e.message.includes(c.name))?.message ?? "";
          try {
            checkManifest(c);
          } catch (e) {
            reason = (e as Error).message;
          }
          return {
            name: c.name,
            version: c.version,
            api: c.manifest.api,
            provides: c.manifest.provides,
            capabilities: {},
            source: c.source,
            status: "refused" as const,
            reason,
          };
        });
      const all = [
        ...rows,
        ...refusedAtRegister.map(({ plugin: p, reason }) => ({
          name: p.name,
          version: p.version,
          api: p.api,
          provides: p.provides,
          capabilities: {},
          source: p.source,
          status: "refused" as const,
          reason,
        })),
        ...refused.filter((r) => !refusedAtRegister.some((x) => x.plugin.name === r.name)),
      ];
      printList(opts, all, ["name", "version", "api", "provides", "status", "detail"], {
        view: (r) => ({
          detail:
            r.status === "loaded"
              ? Object.entries(r.capabilities)
                  .map(([proto, c]) => `${proto}: ${c.length ? c.join(",") : "(none yet)"}`)
                  .join("; ")
              : "reason" in r
                ? r.reason
                : "",
        }),
      });
      for (const e of errors) process.stderr.write(`metal: ${e.message}\n`);
      if (errors.length) process.exitCode = 1;
    });
}
