/**
 * Running the heartbeat daemons from the CLI: config in, sockets up, SIGTERM/SIGINT close them and exit 0
 * within 2 s (cli/stop-signal.ts).
 */
import { StopSignal } from "../cli/stop-signal.js";
import { SystemClock } from "../clock/system-clock.js";
import type { MetalConfig } from "../config/schema.js";
import { createLogger } from "../logging/logger.js";
import { startAmonResponder } from "../pmon/amon.js";
import { datagramAuthFor } from "../transport/datagram-auth.js";
import { HbsAgent } from "./hbs-agent.js";
import { HbsClient } from "./hbs-client.js";
import { MtcalarmRelay } from "./mtcalarm-relay.js";
import { bindUdp, closeUdp } from "./udp.js";

/** Run hbsAgent until SIGTERM/SIGINT, then exit the process (0 once stopped). */
export async function runHbsAgentDaemon(config: MetalConfig): Promise<void> {
  const signal = new StopSignal();
  const clock = new SystemClock();
  const logger = createLogger({ level: config.logging.level, pretty: config.logging.pretty, name: `hbsAgent:${config.node.hostname}` });
  const alarmSock = await bindUdp(config.networks.mgmt.address ?? "127.0.0.1", 0, { auth: datagramAuthFor(config, logger), label: "hbsAgent mtcalarm" });
  const alarms = new MtcalarmRelay(clock, {
    sock: alarmSock,
    address: config.heartbeat.alarmAddress,
    port: config.ports.mtcalarm,
    onError: (err) => logger.warn({ err: err.message }, "cannot send an alarm to mtcalarmd"),
  });
  const agent = new HbsAgent({ config, clock, logger, alarms });
  await agent.start();
  await signal.thenExit(
    "hbsAgent",
    async () => {
      await agent.stop();
      await closeUdp(alarmSock);
    },
    { log: logger },
  );
}

/** Run hbsClient until SIGTERM/SIGINT, then exit the process (0 once stopped). */
export async function runHbsClientDaemon(config: MetalConfig): Promise<void> {
  const signal = new StopSignal();
  const clock = new SystemClock();
  const logger = createLogger({ level: config.logging.level, pretty: config.logging.pretty, name: `hbsClient:${config.node.hostname}` });
  const client = new HbsClient({ config, clock, logger });
  await client.start();
  // pmond's active monitor pings hbsClient when its pmon.d conf says mode active.
  const amon = await startAmonResponder(config, "hbsClient", logger);
  await signal.thenExit(
    "hbsClient",
    async () => {
      await amon?.close();
      await client.stop();
    },
    { log: logger },
  );
}
