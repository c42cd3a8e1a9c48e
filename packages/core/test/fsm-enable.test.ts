import test from "ava";
import { Rig } from "./support/agent-rig.js";

const MIN = 60_000;

async function rig(o: ConstructorParameters<typeof Rig>[0] = {}) {
  const r = new Rig(o);
  await r.agent.start();
  return r;
}

test("unlock a worker: reset progression, boot, goenabled, heartbeat soak -> unlocked-enabled-available", async (t) => {
  const r = await rig();
  r.host("worker-0", { administrative: "unlocked" });
  t.true(await r.until(() => r.state("worker-0") === "unlocked-enabled-available", 10 * MIN), r.state("worker-0"));
  const h = r.fabric.host("worker-0");
  t.true(h.commands.includes("reboot"), "the enable rebooted the host");
  t.is(h.boots, 2);
  t.true(h.commands.includes("reqMainGoenabled"));
  t.true(r.fabric.monitored.has("worker-0"), "heartbeat started");
  t.is(r.get("worker-0").action, "none");
  t.is(r.get("worker-0").task, "");
  await r.stop();
});
