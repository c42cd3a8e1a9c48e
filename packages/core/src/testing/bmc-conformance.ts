import type { ExecutionContext, TestFn } from "ava";
import { BMC_CAPABILITIES, type BmcCapability, type BmcDriver, type BmcEvent, isBmcError, type PowerState } from "../plugin-api/bmc.js";

/** What a plugin author supplies to run the shared suite against their own BMC or emulator. */
export interface BmcConformanceTarget {
  /** Shown in test titles, e.g. "ipmi@ipmi_sim". */
  readonly name: string;
  /** Capabilities the plugin's factory declares. */
  readonly capabilities: readonly BmcCapability[];
  /** A driver for the running target with the right credentials. */
  connect(): BmcDriver | Promise<BmcDriver>;
  /** A driver for the same target with a wrong password; omit only if the target has no authentication. */
  connectWithWrongPassword?(): BmcDriver | Promise<BmcDriver>;
  /** Upper bound for a power transition to show in `status()` (default 15 s). */
  readonly settleMs?: number;
  /** An image URL the target can "insert" (virtualMedia). */
  readonly mediaUrl?: string;
}

async function withDriver<T>(target: BmcConformanceTarget, fn: (d: BmcDriver) => Promise<T>): Promise<T> {
  const d = await target.connect();
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}

/** Poll power status until it reads `want`, bounded in time and count. */
async function waitForPower(d: BmcDriver, want: PowerState, settleMs: number): Promise<PowerState> {
  const deadline = Date.now() + settleMs;
  let last: PowerState = want === "on" ? "off" : "on";
  for (let i = 0; i < 200 && Date.now() <= deadline; i++) {
    last = (await d.power?.status()) ?? last;
    if (last === want) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

/** Each capability's member exists exactly when supports() says so and the factory declares it. */
export const capabilityShape = (cap: BmcCapability) => async (t: ExecutionContext, target: BmcConformanceTarget) => {
  await withDriver(target, async (d) => {
    const declared = target.capabilities.includes(cap);
    t.is(d.supports(cap), declared, `supports('${cap}') must match the declared capabilities`);
    t.is(d[cap] !== undefined, declared, `the '${cap}' member must be present exactly when supported`);
  });
};

export const powerCycleThroughStates = async (t: ExecutionContext, target: BmcConformanceTarget) => {
  const settle = target.settleMs ?? 15_000;
  await withDriver(target, async (d) => {
    t.true(d.supports("power"));
    t.true(["on", "off"].includes(await d.power!.status()));
    await d.power!.set("on");
    t.is(await waitForPower(d, "on", settle), "on", "power on shows as on");
    await d.power!.set("off");
    t.is(await waitForPower(d, "off", settle), "off", "power off shows as off");
    await d.power!.set("on");
    t.is(await waitForPower(d, "on", settle), "on");
    await d.power!.set("cycle");
    t.is(await waitForPower(d, "on", settle), "on", "a power cycle ends powered on");
    await d.power!.set("reset");
    t.is(await waitForPower(d, "on", settle), "on", "a reset leaves the host on");
  });
};

export const bootDeviceToPxe = async (t: ExecutionContext, target: BmcConformanceTarget) => {
  await withDriver(target, async (d) => {
    await t.notThrowsAsync(d.bootDevice!.set("pxe", { persistent: false }));
  });
};

export const infoIsDescribed = async (t: ExecutionContext, target: BmcConformanceTarget) => {
  await withDriver(target, async (d) => {
    const info = await d.info!.get();
    for (const key of ["manufacturer", "firmwareVersion"] as const) {
      t.is(typeof info[key], "string", `info.${key} is a string`);
      t.true(info[key].length > 0, `info.${key} is not empty`);
    }
    // Model and SerialNumber are optional in Redfish (and FRU data is optional in IPMI): strings, maybe empty.
    t.is(typeof info.model, "string");
    t.is(typeof info.serial, "string");
  });
};

export const sensorsAreWellFormed = async (t: ExecutionContext, target: BmcConformanceTarget) => {
  await withDriver(target, async (d) => {
    const readings = await d.sensors!.read();
    t.true(Array.isArray(readings) && readings.length > 0, "at least one sensor");
    const names = new Set<string>();
    for (const r of readings) {
      t.is(typeof r.name, "string");
      t.false(names.has(r.name), `sensor '${r.name}' appears once (duplicates are merged)`);
      names.add(r.name);
      t.true(r.value === null || Number.isFinite(r.value), `${r.name}: value is a number or null`);
      t.true(["ok", "nc", "cr", "nr", "na"].includes(r.status), `${r.name}: status ${r.status}`);
      t.is(typeof r.unit, "string");
    }
  });
};

export const virtualMediaInsertEject = async (t: ExecutionContext, target: BmcConformanceTarget) => {
  const url = target.mediaUrl ?? "http://127.0.0.1:8080/bootimage.iso";
  await withDriver(target, async (d) => {
    const vm = d.virtualMedia!;
    if ((await vm.status()).inserted) await vm.eject();
    t.false((await vm.status()).inserted);
    await vm.insert(url);
    const st = await vm.status();
    t.true(st.inserted);
    t.is(st.image, url);
    await vm.eject();
    t.false((await vm.status()).inserted);
  });
};

export const consoleOpensAndCloses = async (t: ExecutionContext, target: BmcConformanceTarget) => {
  await withDriver(target, async (d) => {
    const stream = await d.console!.open();
    stream.onData(() => {});
    await t.notThrowsAsync(stream.close());
  });
};

/**
 * events: a subscription reports a power change as a `power` event with a message id, and close() ends it
 * without an onLost call. (Needs the power capability to cause the change.)
 */
export const eventsReportPowerChange = async (t: ExecutionContext, target: BmcConformanceTarget) => {
  const settle = target.settleMs ?? 15_000;
  await withDriver(target, async (d) => {
    const got: BmcEvent[] = [];
    const lost: string[] = [];
    const sub = await d.events!.subscribe(
      (e) => got.push(e),
      (why) => lost.push(why),
    );
    try {
      const first = (await d.power!.status()) === "on" ? "off" : "on";
      await d.power!.set(first);
      await waitForPower(d, first, settle);
      const deadline = Date.now() + settle;
      for (let i = 0; i < 400 && Date.now() < deadline && !got.some((e) => e.kind === "power"); i++) await new Promise((r) => setTimeout(r, 50));
      const power = got.find((e) => e.kind === "power");
      t.truthy(power, "a power change arrives as a 'power' event");
      t.is(typeof power?.messageId, "string");
    } finally {
      await sub.close();
    }
    await new Promise((r) => setTimeout(r, 100));
    t.deepEqual(lost, [], "close() is not a loss");
  });
};

export const wrongPasswordIsAuthError = async (t: ExecutionContext, target: BmcConformanceTarget) => {
  const d = await target.connectWithWrongPassword!();
  try {
    const call = d.power ? d.power.status() : d.info ? d.info.get() : Promise.reject(new Error("no power or info capability"));
    const err = await t.throwsAsync(call);
    // Recognised by its stable code: the plugin may throw the BmcError of its own copy of @metal/core.
    t.true(isBmcError(err), `a BMC error with a stable code, not ${err?.name} (code ${String((err as { code?: unknown })?.code)})`);
    t.is((err as { code?: unknown }).code, "auth");
  } finally {
    await d.close();
  }
};

export const closeIsIdempotent = async (t: ExecutionContext, target: BmcConformanceTarget) => {
  const d = await target.connect();
  await d.close();
  await t.notThrowsAsync(d.close());
};

/**
 * Register the whole suite on `test` (ava's default export). Tests run serially because they share
 * one BMC. A vendor runs it with: `bmcConformance(test, { name, capabilities, connect, ... })`.
 */
export function bmcConformance(test: TestFn, target: BmcConformanceTarget): void {
  const caps = new Set(target.capabilities);
  for (const cap of BMC_CAPABILITIES) test.serial(`${target.name}: capability shape '${cap}'`, capabilityShape(cap), target);
  if (caps.has("power")) test.serial(`${target.name}: power on/off/cycle/reset`, powerCycleThroughStates, target);
  if (caps.has("bootDevice")) test.serial(`${target.name}: boot device pxe`, bootDeviceToPxe, target);
  if (caps.has("info")) test.serial(`${target.name}: info`, infoIsDescribed, target);
  if (caps.has("sensors")) test.serial(`${target.name}: sensors`, sensorsAreWellFormed, target);
  if (caps.has("virtualMedia")) test.serial(`${target.name}: virtual media`, virtualMediaInsertEject, target);
  if (caps.has("console")) test.serial(`${target.name}: console`, consoleOpensAndCloses, target);
  if (caps.has("events") && caps.has("power")) test.serial(`${target.name}: events report a power change`, eventsReportPowerChange, target);
  if (target.connectWithWrongPassword) test.serial(`${target.name}: wrong password is an auth error`, wrongPasswordIsAuthError, target);
  test.serial(`${target.name}: close is idempotent`, closeIsIdempotent, target);
}
