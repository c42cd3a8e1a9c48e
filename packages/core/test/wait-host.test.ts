import test from "ava";
import { type WaitHost, waitVerdict } from "../src/cli/wait-host.js";

const h = (state: string, action = "none", task = "", queued: string[] = []): WaitHost => {
  const [administrative, operational, ...rest] = state.split("-") as [string, string, string];
  const availability = rest.join("-");
  return { hostname: "worker-0", administrative, operational, availability, action, task, queued } as WaitHost;
};

test("--wait: pending while the action runs or is queued, done in the target state, failed otherwise", (t) => {
  t.is(waitVerdict("lock", h("unlocked-enabled-available", "lock", "Locking")).state, "pending");
  t.is(waitVerdict("lock", h("unlocked-enabled-available", "add", "", ["lock"])).state, "pending");
  t.is(waitVerdict("lock", h("locked-disabled-online")).state, "done");
  t.is(waitVerdict("force-lock", h("locked-disabled-offline")).state, "done");
  t.is(waitVerdict("unlock", h("unlocked-disabled-offline", "enable", "Booting")).state, "pending");
  t.is(waitVerdict("unlock", h("unlocked-enabled-available")).state, "done");
  t.is(waitVerdict("unlock", h("unlocked-enabled-degraded")).state, "done");
  t.deepEqual(waitVerdict("unlock", h("unlocked-disabled-failed", "none", "Enable Failed")), {
    state: "failed",
    reason: "unlocked-disabled-failed (Enable Failed)",
  });
  t.is(waitVerdict("unlock", h("unlocked-disabled-failed", "recovery")).state, "failed");
  t.is(waitVerdict("lock", h("unlocked-enabled-available")).state, "failed");
  t.is(waitVerdict("power-off", h("locked-disabled-power-off")).state, "done");
  t.is(waitVerdict("power-off", h("locked-disabled-online")).state, "failed");
  t.is(waitVerdict("reboot", h("locked-disabled-online")).state, "done");
  t.is(waitVerdict("delete", h("locked-disabled-online", "delete")).state, "pending");
  t.is(waitVerdict("delete", undefined).state, "done");
  t.is(waitVerdict("lock", undefined).state, "failed");
});
