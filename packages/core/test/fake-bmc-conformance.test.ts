import test from "ava";
import { secretFromString } from "../src/di/secret.js";
import { bmcConformance } from "../src/testing/bmc-conformance.js";
import { FAKE_BMC_CAPABILITIES, FakeBmcFabric, fakeBmcFactory } from "../src/testing/fake-bmc.js";

const fabric = new FakeBmcFabric();
const factory = fakeBmcFactory(fabric);
const target = (password: string) => ({ host: "worker-0", address: "10.0.0.1", username: "admin", password: secretFromString(password) });

// The fake passes the same suite every real BMC plugin runs against its own target.
bmcConformance(test, {
  name: "fake",
  capabilities: FAKE_BMC_CAPABILITIES,
  connect: () => factory.create(target("fake-password")),
  connectWithWrongPassword: () => factory.create(target("wrong")),
  settleMs: 1000,
});

test("an unreachable fake BMC fails with code 'unreachable'", async (t) => {
  fabric.machine("10.0.0.9").unreachable = true;
  const d = factory.create({ ...target("fake-password"), address: "10.0.0.9" });
  const err = await t.throwsAsync(d.power!.status());
  t.is((err as { code?: string }).code, "unreachable");
});
