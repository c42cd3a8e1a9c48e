import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DefaultBmcRegistry, SystemClock, secretFromString, VirtualClock } from "@metal/core";
import { type BmcDriver, type BmcDriverFactory, BmcError } from "@metal/core/plugin-api";
import { FakeBmcFabric, fakeBmcFactory } from "@metal/core/testing";
import test from "ava";
import { loadRvmcConfig, parseRvmcConfig, RvmcConfigError, type RvmcTarget, selectTargets } from "../src/rvmc/config.js";
import { RVMC_STEPS, runRvmc, runRvmcAll, type StepEvent } from "../src/rvmc/sequence.js";
import { fastTiming, tempDir } from "./helpers.js";

const IMAGE = "http://10.10.10.1:8080/iso/bootimage.iso";
const FAST = fastTiming(1);

function target(address: string, password = "fake-password", protocol = "fake"): RvmcTarget {
  return { name: address, protocol, image: IMAGE, bmc: { host: address, address, username: "root", password: secretFromString(password) } };
}

function setup(wrap?: (d: BmcDriver) => BmcDriver) {
  const fabric = new FakeBmcFabric();
  const registry = new DefaultBmcRegistry();
  const base = fakeBmcFactory(fabric);
  const factory: BmcDriverFactory = wrap ? { ...base, create: (t) => wrap(base.create(t)) } : base;
  registry.register(factory, "test-fake");
  const events: StepEvent[] = [];
  return {
    fabric,
    registry,
    events,
    deps: {
      registry,
      clock: new SystemClock(),
      onStep: (e: StepEvent): void => {
        events.push(e);
      },
    },
  };
}

test("the install sequence: eject the old image, power off, insert, boot once from CD in UEFI, power on", async (t) => {
  const { fabric, deps, events } = setup();
  const m = fabric.machine("bmc-1");
  m.power = "on";
  m.media = { inserted: true, image: "http://old/iso" };
  const r = await runRvmc(target("bmc-1"), FAST, deps);
  t.true(r.ok, r.error);
  t.deepEqual(
    r.steps.map((s) => `${s.step}:${s.status}`),
    RVMC_STEPS.map((s) => `${s}:ok`),
  );
  t.deepEqual(m.actions, ["off", "on"]);
  t.deepEqual(m.media, { inserted: true, image: IMAGE });
  t.deepEqual(m.boot, { device: "cd", persistent: false, mode: "uefi" });
  t.is(r.bootMode, "uefi");
  t.deepEqual(
    events.filter((e) => e.status === "start").map((e) => e.step),
    [...RVMC_STEPS],
  );
});

test("nothing inserted and already off: eject and power-off are skipped", async (t) => {
  const { fabric, deps } = setup();
  const r = await runRvmc(target("bmc-2"), FAST, deps);
  t.true(r.ok, r.error);
  t.is(r.steps.find((s) => s.step === "eject")?.status, "skipped");
  t.is(r.steps.find((s) => s.step === "power-off")?.detail, "already off");
  t.deepEqual(fabric.machine("bmc-2").actions, ["on"]);
});

test("a wrong password fails at connect at once; an unreachable BMC after the connect retries", async (t) => {
  const { fabric, deps } = setup();
  const auth = await runRvmc(target("bmc-3", "wrong"), FAST, deps);
  t.false(auth.ok);
  t.is(auth.failedStep, "connect");
  t.is(auth.errorCode, "auth");
  t.is(auth.steps[0]?.attempts, 1, "a wrong password is never retried");
  t.notRegex(JSON.stringify(auth), /wrong/, "the password is in no report");
  fabric.machine("bmc-4").unreachable = true;
  const down = await runRvmc(target("bmc-4"), FAST, deps);
  t.is(down.failedStep, "connect");
  t.is(down.errorCode, "unreachable");
  t.is(down.steps[0]?.attempts, FAST.connectRetries);
  t.regex(down.error ?? "", /^bmc-4: step connect failed: \[unreachable\] .* \(gave up after 2 attempts\)$/);
});

test("an unknown protocol is a clear connect failure", async (t) => {
  const { deps } = setup();
  const r = await runRvmc(target("bmc-5", "x", "acme"), FAST, deps);
  t.is(r.failedStep, "connect");
  t.is(r.errorCode, "unsupported");
  t.regex(r.error ?? "", /no plugin provides BMC protocol 'acme'/);
});

test("a transient fault is retried; a BMC that refuses UEFI and Legacy modes still gets a one-time CD boot", async (t) => {
  let busy = 1;
  const { fabric, deps } = setup((d) => ({
    ...d,
    supports: (c) => d.supports(c),
    close: () => d.close(),
    power: {
      status: () => d.power!.status(),
      set: async (a) => {
        if (a === "on" && busy-- > 0) throw new BmcError("busy", "HTTP 503");
        return d.power!.set(a);
      },
    },
    bootDevice: {
      set: async (dev, o) => {
        if (o?.mode) throw new BmcError("protocol", `BootSourceOverrideMode ${o.mode} refused (HTTP 400 PropertyNotWritable)`);
        return d.bootDevice!.set(dev, o);
      },
    },
  }));
  const r = await runRvmc(target("bmc-6"), FAST, deps);
  t.true(r.ok, r.error);
  t.is(r.bootMode, "bmc-default");
  t.regex(r.steps.find((s) => s.step === "boot-override")?.detail ?? "", /refused: uefi: .*; legacy: /);
  t.is(r.steps.find((s) => s.step === "power-on")?.attempts, 2);
  t.deepEqual(fabric.machine("bmc-6").boot, { device: "cd", persistent: false });
});

test("a boot override refused in every mode fails the step instead of exiting 0 (reference QUIRK)", async (t) => {
  const { fabric, deps } = setup((d) => ({
    ...d,
    supports: (c) => d.supports(c),
    close: () => d.close(),
    bootDevice: {
      set: async () => {
        throw new BmcError("unsupported", "boot target Cd is not offered");
      },
    },
  }));
  const r = await runRvmc(target("bmc-7"), FAST, deps);
  t.false(r.ok);
  t.is(r.failedStep, "boot-override");
  t.deepEqual(fabric.machine("bmc-7").actions, [], "the host is not powered on after a failed override");
});

test("an eject the BMC accepts but does not carry out is repeated; one that never works fails the eject step", async (t) => {
  let ignored = 1;
  const stubborn = (d: BmcDriver, ignore: () => boolean): BmcDriver => ({
    ...d,
    supports: (c) => d.supports(c),
    close: () => d.close(),
    virtualMedia: {
      status: () => d.virtualMedia!.status(),
      insert: (u) => d.virtualMedia!.insert(u),
      eject: async () => (ignore() ? undefined : d.virtualMedia!.eject()),
    },
  });
  const once = setup((d) => stubborn(d, () => ignored-- > 0));
  once.fabric.machine("bmc-11").media = { inserted: true, image: "http://old/iso" };
  const fast = { ...FAST, maxPollCount: 3 };
  const r = await runRvmc(target("bmc-11"), fast, once.deps);
  t.true(r.ok, r.error);
  t.is(r.steps.find((s) => s.step === "eject")?.attempts, 2);
  const never = setup((d) => stubborn(d, () => true));
  never.fabric.machine("bmc-12").media = { inserted: true, image: "http://old/iso" };
  const stuck = await runRvmc(target("bmc-12"), fast, never.deps);
  t.is(stuck.failedStep, "eject");
  t.regex(stuck.error ?? "", /media still inserted after 10 ejects/);
});

test("media inserted by someone else before the insert: eject again and retry", async (t) => {
  const { fabric, deps } = setup();
  const m = fabric.machine("bmc-8");
  deps.onStep = (e: StepEvent) => {
    if (e.step === "insert" && e.status === "start") m.media = { inserted: true, image: "http://intruder/iso" };
  };
  const r = await runRvmc(target("bmc-8"), FAST, deps);
  t.true(r.ok, r.error);
  t.is(r.steps.find((s) => s.step === "insert")?.attempts, 2);
  t.deepEqual(m.media, { inserted: true, image: IMAGE });
});

test("several targets in parallel: each gets its own report, one failure does not stop the others", async (t) => {
  const { fabric, deps, events } = setup();
  fabric.machine("sc-2").unreachable = true;
  const reports = await runRvmcAll([target("sc-1"), target("sc-2"), target("sc-3")], FAST, deps, 2);
  t.deepEqual(
    reports.map((r) => [r.target, r.ok, r.failedStep]),
    [
      ["sc-1", true, undefined],
      ["sc-2", false, "connect"],
      ["sc-3", true, undefined],
    ],
  );
  t.true(events.some((e) => e.target === "sc-3" && e.step === "power-on" && e.status === "ok"));
});

test("rvmc.yaml: single and multiple targets, base64 passwords, RVMC_POWER_ACTION_TIMEOUT, clear errors", async (t) => {
  const single = parseRvmcConfig({ bmc_address: "fd00::10", bmc_username: "root", bmc_password: Buffer.from("calvin").toString("base64"), image: IMAGE });
  t.is(single.targets[0]?.bmc.password.reveal(), "calvin");
  t.is(single.targets[0]?.protocol, "redfish");
  t.is(single.timing.powerActionTimeoutMs, 840_000);
  t.is(single.timing.pollIntervalMs, 10_000);
  const multi = parseRvmcConfig(
    {
      virtual_media_iso: {
        a: { bmc_address: "10.0.0.1", bmc_username: "u", bmc_password: "cHc=", image: IMAGE },
        b: { bmc_address: "10.0.0.2", bmc_username: "u", bmc_password: "cHc=", image: IMAGE, bmc_port: 8443 },
      },
      poll_interval_s: 0.5,
    },
    "x",
    { RVMC_POWER_ACTION_TIMEOUT: "60" },
  );
  t.deepEqual(
    selectTargets(multi, "b,a").map((x) => x.name),
    ["b", "a"],
  );
  t.is(multi.timing.powerActionTimeoutMs, 60_000);
  t.is(multi.timing.pollIntervalMs, 500);
  t.throws(() => selectTargets(multi, "c"), { instanceOf: RvmcConfigError, message: /--target c: no such target \(have a, b\)/ });
  t.throws(() => parseRvmcConfig({ bmc_address: "h", bmc_username: "u", bmc_password: "not base64!", image: IMAGE }), { message: /bmc_password: not base64/ });
  t.throws(() => parseRvmcConfig({ bmc_address: "h", bmc_username: "u", bmc_password: "cHc=", image: "ftp://x" }), { message: /image: must be an http/ });
  t.throws(() => parseRvmcConfig({ virtual_media_iso: { a: { bmc_address: "h" } } }), { instanceOf: RvmcConfigError });

  const dir = tempDir();
  const file = join(dir, "rvmc.yaml");
  writeFileSync(file, `bmc_address: h\nbmc_username: u\nbmc_password: cHc=\nimage: ${IMAGE}\n`);
  chmodSync(file, 0o644);
  await t.throwsAsync(loadRvmcConfig(file), { message: /permissions 644 are too open .* chmod 600/ });
  chmodSync(file, 0o600);
  t.is((await loadRvmcConfig(file, {})).targets.length, 1);
});

/** Run one install on a virtual clock, advancing it until the report is in (bounded). */
async function inVirtualTime(clock: VirtualClock, registry: DefaultBmcRegistry, address: string, limitMs: number, stepMs: number) {
  const { timing } = parseRvmcConfig({ bmc_address: address, bmc_username: "u", bmc_password: "cHc=", image: IMAGE });
  const start = clock.now();
  let report: Awaited<ReturnType<typeof runRvmc>> | undefined;
  void runRvmc(target(address), timing, { registry, clock }).then((r) => {
    report = r;
  });
  const done = await clock.advanceUntil(() => report !== undefined, limitMs, stepMs);
  return { done, report, elapsedS: (clock.now() - start) / 1000 };
}

test("reference timings in virtual time: a host that never powers off fails after the 840 s power timeout", async (t) => {
  const clock = new VirtualClock();
  const { fabric, registry } = setup((d) => ({
    ...d,
    supports: (c) => d.supports(c),
    close: () => d.close(),
    // The BMC accepts the action but the host never goes down.
    power: { status: () => d.power!.status(), set: async () => {} },
  }));
  fabric.machine("bmc-9").power = "on";
  const { done, report, elapsedS } = await inVirtualTime(clock, registry, "bmc-9", 3_600_000, 5_000);
  t.true(done);
  t.is(report?.failedStep, "power-off");
  t.is(report?.errorCode, "timeout");
  t.regex(report?.error ?? "", /the host did not power off/);
  t.true(elapsedS >= 840 && elapsedS <= 860, `gave up after ${elapsedS} s of virtual time`);
});

test("reference timings in virtual time: an unreachable BMC is tried 3 times, 15 s apart", async (t) => {
  const clock = new VirtualClock();
  const { fabric, registry } = setup();
  fabric.machine("bmc-10").unreachable = true;
  const { done, report, elapsedS } = await inVirtualTime(clock, registry, "bmc-10", 600_000, 1_000);
  t.true(done);
  t.is(report?.steps[0]?.attempts, 3);
  t.is(elapsedS, 30, "two 15 s waits between three attempts");
});
