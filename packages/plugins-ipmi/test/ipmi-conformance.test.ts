import { bmcConformance, PtyPair } from "@metal/core/testing";
import test from "ava";
import { IPMI_CAPABILITIES } from "../src/driver.js";
import { IpmiSim } from "../src/testing/ipmi-sim.js";
import { simDriver } from "./helpers.js";

// The foundation's suite, against OpenIPMI's ipmi_sim through ipmitool, with SOL wired to a socat pty pair.
const pty = await PtyPair.open();
const sim = await IpmiSim.start({ solDevice: pty.a });
test.after.always(async () => {
  await sim.stop();
  await pty.close();
});

bmcConformance(test, {
  name: "ipmi@ipmi_sim",
  capabilities: IPMI_CAPABILITIES,
  connect: () => simDriver(sim),
  connectWithWrongPassword: () => simDriver(sim, "wrong"),
  settleMs: 10_000,
});

test.serial("power actions really reached the chassis (the control script's log)", (t) => {
  const log = sim.chassisLog();
  t.true(log.includes("power 1"));
  t.true(log.includes("power 0"));
  t.true(log.includes("reset 1"));
  t.true(log.includes("boot pxe"));
});
