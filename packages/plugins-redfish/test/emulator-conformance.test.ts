import { bmcConformance } from "@metal/core/testing";
import test from "ava";
import { REDFISH_CAPABILITIES } from "../src/driver.js";
import { type Running, startEmulator } from "./helpers.js";

const running: Running = await startEmulator({ faults: { conflictOnSameState: true, poweringMs: 100 } });
test.after.always(() => running.emulator.close());

// The same suite the fake plugin and ipmi (against ipmi_sim) pass; a vendor runs it against a real BMC.
bmcConformance(test, {
  name: "redfish@emulator",
  capabilities: REDFISH_CAPABILITIES,
  connect: () => running.driver(),
  connectWithWrongPassword: () => running.driver("wrong-password"),
  settleMs: 5_000,
  mediaUrl: "http://127.0.0.1:8080/bootimage.iso",
});

test.serial("the conformance run left no session behind (every driver logged out)", (t) => {
  t.is(running.emulator.activeSessions(), 0);
});
