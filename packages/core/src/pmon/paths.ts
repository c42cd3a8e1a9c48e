import { join } from "node:path";
import type { MetalConfig } from "../config/schema.js";

/** Where pmond's files are: the conf directory, the status and hostwd sockets. */
export function pmonPaths(config: MetalConfig) {
  const p = config.pmon;
  return {
    confDir: p.confDir ?? join(config.root, "etc/pmon.d"),
    statusSocket: p.statusSocket ?? join(config.root, "var/run/pmond.sock"),
    hostwdSocket: p.hostwdSocket ?? join(config.root, "var/run/hostwd.sock"),
  };
}
