import type { DynamicBmcDriver } from "@metal/core/bmc/dynamic";
import { defaultConfig } from "@metal/core/config/index";
import { createMetalContainer } from "@metal/core/di/container";
import { secretFromString } from "@metal/core/di/secret";
import { Tokens } from "@metal/core/di/tokens";
import { silentLogger } from "@metal/core/logging/logger";
import { IpmiSim } from "@metal/plugin-ipmi/testing/ipmi-sim";
import { RedfishEmulator } from "@metal/plugin-redfish";
import test from "ava";

/** bm_type dynamic through the registry, as maintenance uses it: the first call learns, then delegates. */
test("a 'dynamic' BMC learns redfish from the emulator and ipmi from ipmi_sim, then works through that plugin", async (t) => {
  const emulator = new RedfishEmulator();
  const { port } = await emulator.listen({ port: 0 });
  const sim = await IpmiSim.start({ sensors: [] });
  t.teardown(async () => {
    await emulator.close();
    await sim.stop();
  });
  const container = await createMetalContainer({ config: defaultConfig(), logger: silentLogger() });
  const registry = container.resolve(Tokens.BmcRegistry);
  t.true(registry.has("dynamic"));

  const rf = registry.connect("dynamic", {
    host: "worker-1",
    address: "127.0.0.1",
    port,
    username: "root",
    password: secretFromString("calvin"),
    options: { scheme: "http" },
  }) as DynamicBmcDriver;
  await rf.power!.set("on");
  t.is(await rf.power!.status(), "on");
  t.is(rf.learned?.protocol, "redfish");
  t.is(emulator.machine.power, "On");
  await rf.close();
  t.is(emulator.activeSessions(), 0);

  const ipmi = registry.connect("dynamic", {
    host: "worker-2",
    address: "127.0.0.1",
    port: sim.port,
    username: sim.username,
    password: secretFromString(sim.password),
    options: { scheme: "http", minIntervalMs: 0 },
  }) as DynamicBmcDriver;
  t.is(await ipmi.power!.status(), "off");
  t.is(ipmi.learned?.protocol, "ipmi");
  t.regex(ipmi.learned!.reason, /defaulting to ipmi/);
  await ipmi.close();

  const known = registry.connect("dynamic", {
    host: "worker-2",
    address: "127.0.0.1",
    port: sim.port,
    username: sim.username,
    password: secretFromString(sim.password),
    options: { learned: "ipmi", minIntervalMs: 0 },
  }) as DynamicBmcDriver;
  t.is(await known.power!.status(), "off");
  t.regex(known.learned!.reason, /learned earlier/);
  await known.close();
});
