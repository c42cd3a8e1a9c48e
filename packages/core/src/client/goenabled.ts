import { existsSync } from "node:fs";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { NodePaths } from "../config/paths.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import { runScripts } from "./script-runner.js";

export type GoenabledKind = "main" | "subf";

export interface GoenabledResult {
  passed: boolean;
  /** "<script> (rc:N)" or "<script> (timeout)" on failure. */
  text?: string;
  /** Answered from a pass file younger than the recent-pass window, without running the tests. */
  recent?: boolean;
}

/** The requestor argument the scripts get (`<script> start <requestor>`). */
const REQUESTOR = "self-test";
/** How often a posted request re-checks its gate files. */
const GATE_POLL_MS = 1_000;

/**
 * The goenabled tests (reference §8, mtcNodeComp.cpp: run_goenabled_scripts): every script in
 * `/etc/goenabled.d`, in parallel, bounded by the goenabled timeout. Gated by the config-complete and
 * `.goenabled` files; the pass and fail marker files record the outcome. One run per kind at a time: a
 * request while one is running gets that run's result.
 */
export class GoenabledRunner {
  private readonly running = new Map<GoenabledKind, Promise<GoenabledResult>>();

  constructor(
    private readonly paths: NodePaths,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly timeoutMs: number,
    private readonly recentPassMs: number,
  ) {}

  request(kind: GoenabledKind): Promise<GoenabledResult> {
    const inFlight = this.running.get(kind);
    if (inFlight) return inFlight;
    const run = this.run(kind).finally(() => this.running.delete(kind));
    this.running.set(kind, run);
    return run;
  }

  private files(kind: GoenabledKind) {
    const p = this.paths;
    return kind === "main"
      ? { pass: p.goenabledPass, fail: p.goenabledFailed, gates: [p.goenabledMainReady, p.initialConfigComplete] }
      : { pass: p.goenabledSubfPass, fail: p.goenabledSubfFailed, gates: [p.goenabledSubfReady, p.workerConfigComplete] };
  }

  private async run(kind: GoenabledKind): Promise<GoenabledResult> {
    const f = this.files(kind);
    const passAge = await stat(f.pass).then(
      (s) => this.clock.now() - s.mtimeMs,
      () => undefined,
    );
    if (passAge !== undefined && passAge >= 0 && passAge < this.recentPassMs && !existsSync(f.fail)) {
      this.log.info({ kind }, "goenabled passed recently; answering without a re-run");
      return { passed: true, recent: true };
    }
    // The tests wait for their gates (goenabled.service and the config-complete file).
    while (!f.gates.every((g) => existsSync(g))) await this.clock.sleep(GATE_POLL_MS);
    const result = await runScripts(this.paths.goenabledDir, ["start", REQUESTOR], this.timeoutMs);
    await mkdir(dirname(f.pass), { recursive: true });
    if (result.failure === undefined) {
      await rm(f.fail, { force: true });
      await writeFile(f.pass, "goenabled passed\n");
      this.log.info({ kind, scripts: result.outcomes.length }, "goenabled tests passed");
      return { passed: true };
    }
    await rm(f.pass, { force: true });
    await writeFile(f.fail, `${result.failure}\n`);
    this.log.warn({ kind, failure: result.failure }, "goenabled tests failed");
    return { passed: false, text: result.failure };
  }
}
