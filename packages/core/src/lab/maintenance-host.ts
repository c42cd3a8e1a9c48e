/**
 * One simulated machine of the maintenance lab, run as its own process: the real mtcClient and hbsClient of
 * the node. A reboot ends the process with LAB_REBOOT_EXIT_CODE (LabNodeActions); the lab brings the machine
 * back after a simulated boot. mtcClient runs on the lab's scaled clock; the heartbeat runs in real time.
 */

import { LabNodeActions } from "../client/lab-node-actions.js";
import { MtcClient } from "../client/mtc-client.js";
import { ScaledClock, SystemClock } from "../clock/system-clock.js";
import { parseConfig } from "../config/load.js";
import { nodePaths } from "../config/paths.js";
import { HbsClient } from "../heartbeat/hbs-client.js";
import { createLogger } from "../logging/logger.js";
import { builtinPersonalities } from "../personality/builtin.js";
import { DefaultPersonalityRegistry } from "../personality/registry.js";
import { datagramAuthFor } from "../transport/datagram-auth.js";
import type { NetworkName } from "../transport/transport.js";
import { UdpTransport } from "../transport/udp-transport.js";
import { LinkSwitch, SwitchedTransport } from "./link-switch.js";

export interface LabHostArgs {
  config: unknown;
  speed: number;
  /** Lab time (ms) at which this boot started, for the client's uptime. */
  bootedAt: number;
  /** Networks cut at boot (a cut cable stays cut over a reboot). */
  linksDown?: NetworkName[];
}

/** What the lab tells a running host over IPC. */
export type LabHostMessage = { type: "links"; down: NetworkName[] };

async function main(args: LabHostArgs): Promise<void> {
  const config = parseConfig(args.config, "lab host config");
  const clock = new ScaledClock(args.speed, args.bootedAt);
  const logger = createLogger({ level: config.logging.level, name: `lab:${config.node.hostname}` });
  const links = new LinkSwitch();
  links.set(args.linksDown ?? []);
  process.on("message", (m: LabHostMessage) => {
    if (m && m.type === "links" && Array.isArray(m.down)) links.set(m.down);
  });
  const client = new MtcClient({
    config,
    transport: new SwitchedTransport(new UdpTransport({ auth: datagramAuthFor(config, logger) }), links),
    clock,
    logger,
    actions: new LabNodeActions(nodePaths(config.root), clock, logger),
    personalities: new DefaultPersonalityRegistry(builtinPersonalities(config.timeouts)),
  });
  const hbs = new HbsClient({ config, clock: new SystemClock(), logger, linkDown: (n) => links.isDown(n) });
  await client.start();
  await hbs.start();
  const quit = () => {
    void Promise.allSettled([client.stop(), hbs.stop()]).then(() => process.exit(0));
  };
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
  process.on("disconnect", quit);
}

if (process.argv[2] === "--lab-host") {
  main(JSON.parse(process.argv[3] ?? "{}") as LabHostArgs).catch((err: unknown) => {
    process.stderr.write(`lab host: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
