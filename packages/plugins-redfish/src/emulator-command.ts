import { readFileSync } from "node:fs";
import { CliError } from "@metal/core/cli/errors";
import type { Command } from "commander";
import { type EmulatorProfileInput, loadProfile } from "./emulator/profile.js";
import { RedfishEmulator } from "./emulator/server.js";

function fail(message: string): never {
  throw new CliError(message, 2);
}

/** `metal redfish-emulator --port P [--profile F]`: a Redfish BMC on loopback until SIGINT/SIGTERM. */
export function redfishEmulatorCommand(program: Command): void {
  program
    .command("redfish-emulator")
    .description("run a Redfish BMC emulator (service root, Systems, Chassis, Managers, sessions, virtual media, fault knobs)")
    .requiredOption("--port <port>", "TCP port (0 = any free port)")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--profile <file>", "JSON profile: identity, credentials, sensors, vendor quirks, fault knobs")
    .option("--tls-cert <file>", "PEM certificate: serve https")
    .option("--tls-key <file>", "PEM key for --tls-cert")
    .action(async (opts: { port: string; host: string; profile?: string; tlsCert?: string; tlsKey?: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer 0..65535 (got '${opts.port}')`);
      if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) fail("--tls-cert and --tls-key go together");
      let profile: EmulatorProfileInput = {};
      if (opts.profile) {
        try {
          profile = loadProfile(opts.profile);
        } catch (err) {
          fail((err as Error).message);
        }
      }
      const emulator = new RedfishEmulator(profile);
      const tls = opts.tlsCert && opts.tlsKey ? { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) } : undefined;
      const { url } = await emulator.listen({ port, host: opts.host, ...(tls ? { tls } : {}) });
      process.stdout.write(`redfish-emulator listening on ${url} (user ${emulator.profile.username})\n`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await emulator.close();
    });
}
