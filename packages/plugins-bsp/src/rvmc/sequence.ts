import type { BmcDriver } from "@metal/core/plugin-api";
import { BmcError, type BmcErrorCode, type BmcRegistry, type BootMode, type Clock, isBmcError, type Logger, type PowerState } from "@metal/core/plugin-api";
import type { RvmcTarget, RvmcTiming } from "./config.js";

/**
 * The virtual-media install of one target (reference B.12 execute()), through the BMC plugin contract:
 * connect and log in, find the CD/DVD virtual media, eject what is inserted, power off, insert the image,
 * boot once from CD with the mode the BMC accepts, power on. Every wait is polled through the injected
 * Clock and bounded; transient faults are retried; the report names the step that failed and why.
 */
export const RVMC_STEPS = ["connect", "find-media", "eject", "power-off", "insert", "boot-override", "power-on"] as const;
export type RvmcStep = (typeof RVMC_STEPS)[number];

export interface StepReport {
  step: RvmcStep;
  status: "ok" | "skipped" | "failed";
  attempts: number;
  detail?: string;
}

export interface RvmcReport {
  target: string;
  ok: boolean;
  steps: StepReport[];
  failedStep?: RvmcStep;
  error?: string;
  errorCode?: BmcErrorCode | "internal";
  /**
   * The boot override mode RVMC asked for and the BMC accepted: uefi, legacy, or none (its own default).
   * A driver may still drop a mode the BMC marks read-only (the Redfish plugin does, for HPE).
   */
  bootMode?: BootMode | "bmc-default";
}

export type StepEvent = { target: string; step: RvmcStep; status: "start" | StepReport["status"]; detail?: string };

export interface RvmcDeps {
  registry: BmcRegistry;
  clock: Clock;
  logger?: Logger;
  onStep?: (e: StepEvent) => void;
}

/** Faults worth another try: the BMC is busy, slow, briefly unreachable, or another client got in first. */
const TRANSIENT: ReadonlySet<BmcErrorCode> = new Set(["unreachable", "timeout", "busy", "conflict"]);
/** At most this many eject rounds (the original's 10 eject attempts). */
const MAX_EJECTS = 10;

class StepFailure extends Error {
  constructor(
    readonly step: RvmcStep,
    readonly code: BmcErrorCode | "internal",
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

function describe(err: unknown): { code: BmcErrorCode | "internal"; message: string } {
  if (isBmcError(err)) return { code: err.code, message: err.message };
  return { code: "internal", message: (err as Error)?.message ?? String(err) };
}

class InstallRun {
  readonly steps: StepReport[] = [];
  bootMode: RvmcReport["bootMode"];

  constructor(
    private readonly target: RvmcTarget,
    private readonly timing: RvmcTiming,
    private readonly deps: RvmcDeps,
  ) {}

  private emit(step: RvmcStep, status: StepEvent["status"], detail?: string): void {
    this.deps.onStep?.({ target: this.target.name, step, status, ...(detail ? { detail } : {}) });
    this.deps.logger?.info({ target: this.target.name, step, status, ...(detail ? { detail } : {}) }, "rvmc step");
  }

  /** Run a step body; record it; a thrown StepFailure or error marks the step failed. */
  async step(step: RvmcStep, body: () => Promise<{ status: "ok" | "skipped"; attempts: number; detail?: string }>): Promise<void> {
    this.emit(step, "start");
    try {
      const r = await body();
      this.steps.push({ step, ...r });
      this.emit(step, r.status, r.detail);
    } catch (err) {
      const f = err instanceof StepFailure ? err : new StepFailure(step, describe(err).code, describe(err).message, 1);
      this.steps.push({ step, status: "failed", attempts: f.attempts, detail: f.message });
      this.emit(step, "failed", f.message);
      throw f;
    }
  }

  /** Call `fn` until it succeeds, up to `tries`; only transient BMC faults are retried. */
  async retry<T>(
    step: RvmcStep,
    fn: () => Promise<T>,
    tries: number,
    delayMs: number,
    onConflict?: () => Promise<void>,
  ): Promise<{ value: T; attempts: number }> {
    let last: { code: BmcErrorCode | "internal"; message: string } = { code: "internal", message: "not attempted" };
    for (let attempt = 1; attempt <= tries; attempt++) {
      try {
        return { value: await fn(), attempts: attempt };
      } catch (err) {
        last = describe(err);
        if (last.code === "internal" || !TRANSIENT.has(last.code)) throw new StepFailure(step, last.code, `[${last.code}] ${last.message}`, attempt);
        this.deps.logger?.warn({ target: this.target.name, step, attempt, code: last.code, err: last.message }, "rvmc step will retry");
        if (last.code === "conflict" && onConflict) await onConflict().catch(() => undefined);
        if (attempt < tries) await this.deps.clock.sleep(delayMs);
      }
    }
    throw new StepFailure(step, last.code, `[${last.code}] ${last.message} (gave up after ${tries} attempts)`, tries);
  }

  /** Poll `read` until `done`, at most maxPollCount times or until `timeoutMs` passes. */
  async until<T>(step: RvmcStep, read: () => Promise<T>, done: (v: T) => boolean, what: string, timeoutMs?: number): Promise<T> {
    const { pollIntervalMs, maxPollCount } = this.timing;
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : this.deps.clock.now() + timeoutMs;
    let v: T | undefined;
    for (let i = 0; i < maxPollCount; i++) {
      v = (await this.retry(step, read, this.timing.retries, this.timing.retryDelayMs)).value;
      if (done(v)) return v;
      if (this.deps.clock.now() >= deadline) break;
      await this.deps.clock.sleep(pollIntervalMs);
    }
    throw new StepFailure(step, "timeout", `[timeout] ${what} (last read: ${JSON.stringify(v)})`, maxPollCount);
  }
}

function need<T>(driver: BmcDriver, member: T | undefined, cap: string): T {
  if (!member) throw new BmcError("unsupported", `the ${driver.protocol} driver offers no ${cap}`);
  return member;
}

/** Install one target. Never throws: the report says what happened. The driver is always closed. */
export async function runRvmc(target: RvmcTarget, timing: RvmcTiming, deps: RvmcDeps): Promise<RvmcReport> {
  const run = new InstallRun(target, timing, deps);
  let driver: BmcDriver | undefined;
  try {
    await run.step("connect", async () => {
      try {
        driver = deps.registry.connect(target.protocol, target.bmc, ["virtualMedia", "power", "bootDevice"]);
      } catch (err) {
        // No plugin for the protocol, or one without virtual media: nothing to retry.
        throw new BmcError("unsupported", (err as Error).message);
      }
      const d = driver;
      // The first call logs in; a wrong password is final at once (auth is never retried).
      const r = await run.retry("connect", () => need(d, d.power, "power").status(), timing.connectRetries, timing.connectDelayMs);
      return { status: "ok", attempts: r.attempts, detail: `${d.protocol} BMC at ${target.bmc.address}, host power ${r.value}` };
    });
    const d = driver!;
    const media = need(d, d.virtualMedia, "virtualMedia");
    const power = need(d, d.power, "power");
    const boot = need(d, d.bootDevice, "bootDevice");

    const powerTo = async (step: RvmcStep, want: PowerState) => {
      const r = await run.retry(step, () => power.set(want), timing.retries, timing.retryDelayMs);
      await run.until(
        step,
        () => power.status(),
        (s) => s === want,
        `the host did not power ${want}`,
        timing.powerActionTimeoutMs,
      );
      return { status: "ok" as const, attempts: r.attempts };
    };

    let inserted = false;
    await run.step("find-media", async () => {
      const r = await run.retry("find-media", () => media.status(), timing.retries, timing.retryDelayMs);
      inserted = r.value.inserted;
      return { status: "ok", attempts: r.attempts, detail: inserted ? `holds ${r.value.image ?? "an image"}` : "empty" };
    });

    /** Eject, then poll until the media reads empty; a round whose polls run out ejects again (10 rounds). */
    const ejectAndWait = async (): Promise<number> => {
      for (let round = 1; round <= MAX_EJECTS; round++) {
        // An eject the BMC refuses (the original accepts 400/403/404) still counts if the media reads empty.
        await media.eject().catch((err: unknown) => {
          if (describe(err).code === "auth") throw err;
        });
        try {
          await run.until(
            "eject",
            () => media.status(),
            (x) => !x.inserted,
            "the media still reads inserted after eject",
          );
          return round;
        } catch (err) {
          if (!(err instanceof StepFailure) || err.code !== "timeout") throw err;
        }
      }
      throw new StepFailure("eject", "timeout", `[timeout] media still inserted after ${MAX_EJECTS} ejects`, MAX_EJECTS);
    };

    await run.step("eject", async () =>
      inserted ? { status: "ok", attempts: await ejectAndWait() } : { status: "skipped", attempts: 0, detail: "nothing inserted" },
    );

    await run.step("power-off", async () => {
      const now = await run.retry("power-off", () => power.status(), timing.retries, timing.retryDelayMs);
      if (now.value === "off") return { status: "skipped", attempts: now.attempts, detail: "already off" };
      return powerTo("power-off", "off");
    });

    await run.step("insert", async () => {
      // Another client may have inserted media since the eject: eject again and retry the insert.
      const r = await run.retry(
        "insert",
        () => media.insert(target.image),
        timing.retries,
        timing.retryDelayMs,
        async () => {
          await ejectAndWait();
        },
      );
      const check = () => media.status();
      await run.until("insert", check, (s) => s.inserted && s.image === target.image, `the media does not show ${target.image}`);
      // Verify once more, as the original does: some BMCs flip back after accepting the insert.
      const again = (await run.retry("insert", check, timing.retries, timing.retryDelayMs)).value;
      if (!again.inserted || again.image !== target.image)
        throw new StepFailure("insert", "protocol", `[protocol] the media reverted to ${JSON.stringify(again)}`, r.attempts);
      return { status: "ok", attempts: r.attempts, detail: target.image };
    });

    await run.step("boot-override", async () => {
      // UEFI if the BMC takes it, else Legacy, else no mode at all (the BMC's own).
      // QUIRK fixed: the original exits 0 without powering on when neither mode is allowed.
      const refusals: string[] = [];
      let attempts = 0;
      for (const mode of ["uefi", "legacy", undefined] as const) {
        try {
          const r = await run.retry(
            "boot-override",
            () => boot.set("cd", { persistent: false, ...(mode ? { mode } : {}) }),
            timing.retries,
            timing.retryDelayMs,
          );
          attempts += r.attempts;
          run.bootMode = mode ?? "bmc-default";
          return { status: "ok", attempts, detail: `once from Cd, mode ${run.bootMode}${refusals.length ? ` (refused: ${refusals.join("; ")})` : ""}` };
        } catch (err) {
          if (!(err instanceof StepFailure) || (err.code !== "unsupported" && err.code !== "protocol")) throw err;
          attempts += err.attempts;
          refusals.push(`${mode ?? "no mode"}: ${err.message}`);
        }
      }
      throw new StepFailure("boot-override", "unsupported", `the BMC refused a one-time Cd boot in every mode: ${refusals.join("; ")}`, attempts);
    });

    await run.step("power-on", () => powerTo("power-on", "on"));
    return { target: target.name, ok: true, steps: run.steps, ...(run.bootMode ? { bootMode: run.bootMode } : {}) };
  } catch (err) {
    const f = err instanceof StepFailure ? err : new StepFailure("connect", describe(err).code, describe(err).message, 1);
    return {
      target: target.name,
      ok: false,
      steps: run.steps,
      failedStep: f.step,
      error: `${target.name}: step ${f.step} failed: ${f.message}`,
      errorCode: f.code,
      ...(run.bootMode ? { bootMode: run.bootMode } : {}),
    };
  } finally {
    await driver?.close().catch(() => undefined);
  }
}

/** Several targets at once, at most `parallel` in flight; reports in the targets' order. */
export async function runRvmcAll(targets: readonly RvmcTarget[], timing: RvmcTiming, deps: RvmcDeps, parallel = 8): Promise<RvmcReport[]> {
  const reports: RvmcReport[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      reports[i] = await runRvmc(targets[i]!, timing, deps);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, targets.length)) }, worker));
  return reports;
}
