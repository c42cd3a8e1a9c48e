import type { Command } from "commander";
import { nodePaths } from "../../config/paths.js";
import { createEtcdClient } from "../../ha/etcd-client.js";
import { EtcdInventoryStore } from "../../inventory/etcd-store.js";
import { FileInventoryStore } from "../../inventory/file-store.js";
import { loadCliConfig } from "../config-option.js";
import { CliError } from "../errors.js";

/**
 * `metal store migrate --from file --to etcd`: copy the file inventory (maintenance.stateDir/hosts) into the etcd store
 * named by `store` in the config. Run it with no agent running; it refuses a prefix that already holds hosts.
 */
export function storeCommand(program: Command): void {
  const store = program.command("store").description("the inventory store (file or etcd)");
  store
    .command("migrate")
    .description("copy the inventory from the file store into etcd (agents stopped; the etcd prefix must be empty)")
    .requiredOption("--from <kind>", "source store: file")
    .requiredOption("--to <kind>", "target store: etcd")
    .option("-c, --config <file>", "metal config file (maintenance.stateDir, store.endpoints, store.prefix)")
    .option("--state-dir <dir>", "the file store's state dir (default maintenance.stateDir)")
    .action(async (opts: { from: string; to: string; config?: string; stateDir?: string }) => {
      if (opts.from !== "file" || opts.to !== "etcd") throw new CliError("only --from file --to etcd is supported");
      const config = await loadCliConfig(opts.config);
      const stateDir = opts.stateDir ?? config.maintenance.stateDir ?? nodePaths(config.root).agentState;
      const file = new FileInventoryStore({ stateDir });
      const snapshot = await file.load();
      const history = await file.readHistory();
      await file.close();
      const etcd = createEtcdClient(config.store);
      try {
        const n = await new EtcdInventoryStore(etcd, config.store.prefix).importSnapshot(snapshot, history);
        process.stdout.write(
          `copied ${n} hosts, ${snapshot.alarms.length} active alarms and ${history.length} history records from ${stateDir} to etcd ${config.store.endpoints.join(",")} ${config.store.prefix}\n`,
        );
      } catch (err) {
        throw new CliError(`store migrate: ${(err as Error).message}`, 1);
      } finally {
        etcd.close();
      }
    });
}
