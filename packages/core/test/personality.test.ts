import test from "ava";
import { builtinPersonalities } from "../src/personality/builtin.js";
import { DefaultPersonalityRegistry } from "../src/personality/registry.js";
import type { HostProfile, PersonalityHooks } from "../src/plugin-api/personality.js";

const reg = () => new DefaultPersonalityRegistry(builtinPersonalities({ controllerBoot: 1200, workerBoot: 720 }));
const host = (subfunctions: HostProfile["subfunctions"], systemType: HostProfile["systemType"] = "standard"): HostProfile => ({
  hostname: "h",
  subfunctions,
  systemType,
});

test("each personality gets its reference hooks", (t) => {
  const r = reg();
  t.is(r.forHost(host(["controller"])).name, "controller");
  t.is(r.forHost(host(["controller", "worker"], "aio-sx")).name, "aio");
  t.is(r.forHost(host(["worker"])).name, "worker");
  t.is(r.forHost(host(["storage"])).name, "storage");
  t.deepEqual(r.forHost(host(["controller", "worker"], "aio-dx")).hostServiceFunctions(host(["controller", "worker"])), ["controller", "worker"]);
  t.true(r.forHost(host(["controller", "worker"], "aio-sx")).hasSubfunctionEnable(host(["controller", "worker"])));
  t.is(r.forHost(host(["controller"])).bootTimeoutSeconds(host(["controller"])), 1200);
  t.is(r.forHost(host(["worker"])).bootTimeoutSeconds(host(["worker"])), 720);
  t.is(r.forHost(host(["storage"])).lockDelaySeconds(host(["storage"])), 90);
  t.true(r.forHost(host(["controller"])).clusterHostDegradeOnly(host(["controller"], "standard")));
  t.false(r.forHost(host(["worker"])).clusterHostDegradeOnly(host(["worker"])));
});

test("a plugin's hooks take precedence; no match is a clear error", (t) => {
  const r = reg();
  const edge: PersonalityHooks = { ...builtinPersonalities({ controllerBoot: 1, workerBoot: 1 })[3]!, bootTimeoutSeconds: () => 99 };
  r.register(edge, "@acme/edge");
  t.is(r.forHost(host(["worker"])).bootTimeoutSeconds(host(["worker"])), 99);
  t.throws(() => r.forHost(host([])), { message: /no personality matches/ });
});
