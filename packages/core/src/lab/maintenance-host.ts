/**
 * One simulated machine of the maintenance lab, run as its own process: the real mtcClient and hbsClient of
 * the node. A reboot ends the process with LAB_REBOOT_EXIT_CODE (LabNodeActions); the lab brings the machine
 * back after a simulated boot. mtcClient runs on the lab's scaled clock; the heartbeat runs in real time.
 *
 * The lab forks this process when the machine's boot begins: it loads its modules, says `loaded`, and waits for
 * `start` (sent when the simulated boot ends); once its daemons run it says `up`. Loading a Node process takes real
 * seconds on a loaded machine, which at lab speed is minutes: hidden in the boot, it no longer makes a host miss the
 * requests of an enable that begins as it boots (issue 14).
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

/** What the lab tells a host over IPC: which networks are cut; start the node's daemons (the boot ended). */
export type LabHostMessage = { type: "links"; down: NetworkName[] } | { type: "start"; args: LabHostArgs };

/** What a host tells the lab: its modules are loaded (it can take `start`); its daemons run (the machine is up). */
export type LabHostReport = { type: "loaded" } | { type: "up" };

async function main(args: LabHostArgs, links: LinkSwitch): Promise<void> {
  const config = parseConfig(args.config, "lab host config");
  const clock = new ScaledClock(args.speed, args.bootedAt);
  const logger = createLogger({ level: config.logging.level, name: `lab:${config.node.hostname}` });
  links.set(args.linksDown ?? []);
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
  const links = new LinkSwitch();
  const report = (r: LabHostReport) => process.send?.(r);
  let started = false;
  const start = (args: LabHostArgs) => {
    if (started) return;
    started = true;
    main(args, links).then(
      () => report({ type: "up" }),
      (err: unknown) => {
        process.stderr.write(`lab host: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("message", (m: LabHostMessage) => {
    if (m?.type === "links" && Array.isArray(m.down)) links.set(m.down);
    else if (m?.type === "start" && m.args) start(m.args);
  });
  // The lab went away before the boot ended: nothing to stop.
  process.on("disconnect", () => {
    if (!started) process.exit(0);
  });
  // Arguments on the command line: start at once; otherwise wait for the lab's `start`.
  if (process.argv[3]) start(JSON.parse(process.argv[3]) as LabHostArgs);
  else report({ type: "loaded" });
}
