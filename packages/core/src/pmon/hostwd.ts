/**
 * hostwd, the host watchdog (reference mtce-core.md §9, mtce/src/hostw, hostwd.conf): takes pmond's quorum report
 * on a UNIX socket, pets the watchdog device every petPeriodMs, and after `failureThreshold` report periods
 * without a report, or a report of a failed quorum, takes the configured action once: a crash dump (sysrq c,
 * hostwd_kdump_on_stall) or a reboot (hostwd_reboot_on_err) through NodeActions. Never while
 * /var/run/.node_locked exists. A clean stop writes the magic 'V' so the kernel disarms the watchdog; after an
 * action it stops petting, so a reboot that does not happen is finished by the kernel watchdog.
 */
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { dirname } from "node:path";
import type { NodeActions } from "../client/node-actions.js";
import { nodePaths } from "../config/paths.js";
import type { MetalConfig } from "../config/schema.js";
import { RateLimitedLog } from "../logging/rate-limited.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { pmonPaths } from "./paths.js";
import { decodeQuorumReport, type QuorumReport, takeLines } from "./quorum.js";

export interface HostwdOptions {
  config: MetalConfig;
  clock: Clock;
  logger: Logger;
  actions: NodeActions;
}

export type HostwdAction = "crashdump" | "reboot" | "none";

export class Hostwd {
  private readonly cfg: MetalConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly bad: RateLimitedLog;
  private readonly actions: NodeActions;
  private readonly socketPath: string;
  private readonly lockedFile: string;
  private server?: Server;
  private fd: number | undefined;
  private petTimer?: TimerHandle;
  private checkTimer?: TimerHandle;
  private reportsSinceCheck = 0;
  /** Report periods in a row without a report. */
  missed = 0;
  /** The action taken, once; afterwards hostwd only waits for the reboot. */
  acted: HostwdAction | undefined;
  readonly stats = { pets: 0, reports: 0, badReports: 0 };
  lastReport: QuorumReport | undefined;

  constructor(o: HostwdOptions) {
    this.cfg = o.config;
    this.clock = o.clock;
    this.log = o.logger.child({ svc: "hostwd" });
    this.bad = new RateLimitedLog(this.log, this.clock);
    this.actions = o.actions;
    this.socketPath = pmonPaths(o.config).hostwdSocket;
    this.lockedFile = nodePaths(o.config.root).nodeLocked;
  }

  async start(): Promise<void> {
    const w = this.cfg.pmon.hostwd;
    // Open the device first: without it there is nothing to guard the host with.
    this.fd = openSync(w.device, "a");
    mkdirSync(dirname(this.socketPath), { recursive: true });
    rmSync(this.socketPath, { force: true });
    const server = createServer((sock) => {
      let rest = "";
      sock.setEncoding("utf8");
      sock.on("data", (chunk: string) => {
        const t = takeLines(rest, chunk);
        rest = t.rest;
        for (const line of t.lines) this.onReport(line);
      });
      sock.on("end", () => {
        if (rest.trim()) this.onReport(rest);
        rest = "";
      });
      sock.on("error", () => undefined);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    this.pet();
    this.petTimer = this.clock.setInterval(() => this.pet(), w.petPeriodMs);
    this.checkTimer = this.clock.setInterval(() => this.check(), this.cfg.pmon.hostwdUpdatePeriod * 1000);
    this.log.info({ device: w.device, socket: this.socketPath, threshold: w.failureThreshold }, "hostwd started");
  }

  /** Clean stop: the magic close disarms the kernel watchdog. */
  async stop(): Promise<void> {
    this.clock.clearInterval(this.petTimer);
    this.clock.clearInterval(this.checkTimer);
    if (this.fd !== undefined) {
      try {
        writeSync(this.fd, "V");
        closeSync(this.fd);
      } catch {
        // device gone
      }
      this.fd = undefined;
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.socketPath, { force: true });
  }

  private pet(): void {
    if (this.fd === undefined || this.acted) return;
    try {
      writeSync(this.fd, ".");
      this.stats.pets++;
    } catch (err) {
      this.bad.warn("pet", { err: (err as Error).message }, "cannot pet the watchdog");
    }
  }

  /** One report line from pmond. */
  onReport(line: string): void {
    const r = decodeQuorumReport(line.trim());
    if (!r.ok) {
      this.stats.badReports++;
      this.bad.warn("report", { reason: r.reason }, "bad quorum report dropped");
      return;
    }
    this.stats.reports++;
    this.reportsSinceCheck++;
    this.missed = 0;
    this.lastReport = r.value;
    if (r.value.quorum === "failed") this.failure(`quorum failed: ${r.value.failed.join(", ") || "unknown process"}`);
  }

  /** Every report period: count a missed report; too many in a row is a failure. */
  check(): void {
    if (this.reportsSinceCheck > 0) {
      this.reportsSinceCheck = 0;
      return;
    }
    this.missed++;
    this.log.warn({ missed: this.missed, threshold: this.cfg.pmon.hostwd.failureThreshold }, "no quorum report from pmond");
    if (this.missed >= this.cfg.pmon.hostwd.failureThreshold) this.failure(`${this.missed} quorum reports missed`);
  }

  private failure(reason: string): void {
    if (this.acted) return;
    if (existsSync(this.lockedFile)) {
      this.bad.warn("locked", { reason }, "host watchdog failure while locked: no action");
      this.missed = 0;
      return;
    }
    const w = this.cfg.pmon.hostwd;
    const action: HostwdAction = w.kdumpOnStall ? "crashdump" : w.rebootOnErr ? "reboot" : "none";
    if (action === "none") {
      this.bad.warn("none", { reason }, "host watchdog failure: no action configured");
      return;
    }
    this.acted = action;
    this.log.error({ reason, action }, "host watchdog failure: taking action");
    const done = action === "crashdump" ? this.actions.sysrq("c") : this.actions.reboot(`hostwd: ${reason}`);
    done.catch((err: unknown) => this.log.error({ err: (err as Error).message }, "host watchdog action failed"));
  }
}
