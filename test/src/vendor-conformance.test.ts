import { defaultConfig, loadConfigFile } from "@metal/core/config/index";
import { createMetalContainer } from "@metal/core/di/container";
import { secretFromFile, secretFromString } from "@metal/core/di/secret";
import { Tokens } from "@metal/core/di/tokens";
import { silentLogger } from "@metal/core/logging/logger";
import type { BmcTarget } from "@metal/core/plugin-api";
import { bmcConformance } from "@metal/core/testing";
import { RedfishEmulator } from "@metal/plugin-redfish";
import test from "ava";

/**
 * The shared BMC conformance suite against any BMC, chosen by environment (what `metal bmc conformance` sets):
 *   METAL_BMC_PROTOCOL  the plugin's protocol (ipmi, redfish, or your plugin's)
 *   METAL_BMC           ADDR[:PORT]
 *   METAL_BMC_USER, METAL_BMC_PASSWORD_FILE (0600)
 *   METAL_BMC_OPTIONS   JSON of target options (e.g. {"scheme":"http"}), METAL_BMC_INSECURE=1, METAL_BMC_CA
 *   METAL_CONFIG        a metal config whose plugins.load names your plugin package
 *   METAL_BMC_MEDIA_URL an image URL the BMC can mount (virtualMedia)
 * With no METAL_BMC, it runs against the Redfish emulator, so the file is exercised in CI too.
 */
const env = process.env;
let emulator: RedfishEmulator | undefined;
let protocol = env.METAL_BMC_PROTOCOL ?? "redfish";
let target: BmcTarget;
if (env.METAL_BMC) {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(env.METAL_BMC);
  if (!m?.[1] || !env.METAL_BMC_USER || !env.METAL_BMC_PASSWORD_FILE) throw new Error("METAL_BMC, METAL_BMC_USER and METAL_BMC_PASSWORD_FILE are required");
  target = {
    host: "conformance",
    address: m[1],
    ...(m[2] ? { port: Number(m[2]) } : {}),
    username: env.METAL_BMC_USER,
    password: secretFromFile(env.METAL_BMC_PASSWORD_FILE),
    ...(env.METAL_BMC_INSECURE === "1" ? { insecure: true } : {}),
    ...(env.METAL_BMC_CA ? { caFile: env.METAL_BMC_CA } : {}),
    timeoutMs: 60_000,
    options: env.METAL_BMC_OPTIONS ? (JSON.parse(env.METAL_BMC_OPTIONS) as BmcTarget["options"]) : {},
  };
} else {
  emulator = new RedfishEmulator();
  const { port } = await emulator.listen({ port: 0 });
  protocol = "redfish";
  target = { host: "conformance", address: "127.0.0.1", port, username: "root", password: secretFromString("calvin"), options: { scheme: "http", pollMs: 50 } };
}
const config = env.METAL_CONFIG ? await loadConfigFile(env.METAL_CONFIG) : defaultConfig();
const container = await createMetalContainer({ config, logger: silentLogger() });
const registry = container.resolve(Tokens.BmcRegistry);
const factory = registry.get(protocol);
test.after.always(() => emulator?.close());

bmcConformance(test, {
  name: `${protocol}@${target.address}${target.port ? `:${target.port}` : ""}`,
  capabilities: factory.capabilities,
  connect: () => factory.create(target),
  connectWithWrongPassword: () => factory.create({ ...target, password: secretFromString(`${target.password.reveal()}-wrong`) }),
  settleMs: 120_000,
  ...(env.METAL_BMC_MEDIA_URL ? { mediaUrl: env.METAL_BMC_MEDIA_URL } : {}),
});
