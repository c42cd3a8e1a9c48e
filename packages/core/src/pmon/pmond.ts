/**
 * pmond, the process monitor of every node (reference mtce-core.md §9): reads `<root>/etc/pmon.d/*.conf` and
 * watches the directory, runs one passive/active/status handler per process (passive.ts, active.ts) from one
 * audit loop every auditPeriodMs/10, pulses hbsClient every auditPeriodMs ("pmond alive pulse", so its
 * PMOND_FLAG is real), sends process events to the mtcAgent (none while /var/run/.node_reset exists), reports the
 * quorum to hostwd every hostwdUpdatePeriod, and answers `metal pmon status` on a UNIX socket.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, type FSWatcher, mkdirSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { basename, dirname, join } from "node:path";
import { nodePaths } from "../config/paths.js";
import type { MetalConfig } from "../config/schema.js";
import { stepHandler } from "../fsm/engine.js";
import { bindUdp, closeUdp, sendUdp } from "../heartbeat/udp.js";
import { RateLimitedLog } from "../logging/rate-limited.js";
import type { Clock, Logger, TimerHandle } from "../plugin-api/services.js";
import { datagramAuthFor } from "../transport/datagram-auth.js";
import type { UdpSocket } from "../transport/udp-socket.js";
import { amonResponseMatches, encodeAmonRequest } from "./amon.js";
import { MAX_PROCESSES, PmonConfError, parseProcessConf } from "./conf.js";
import { passiveHandler, refreshPid } from "./passive.js";
import { pmonPaths } from "./paths.js";
import { encodePmondPulse, encodePmondReady, encodePmonEvent, type PmonEvent, type PmonEventKind } from "./pmon-messages.js";
import { type PmonContext, PmonProcess, type PmonProcessStatus } from "./process.js";
import { encodeQuorumReport } from "./quorum.js";
import { runScript } from "./run-script.js";
import type { PmonSettings } from "./settings.js";

/** How often the conf directory is re-read even without a watch event (a missed inotify event, a late directory). */
const RESCAN_MS = 5_000;
const FUNCTION_MASK: Readonly<Record<string, number>> = { controller: 0x1, worker: 0x2, storage: 0x4 };

export interface PmondOptions {
  config: MetalConfig;
  clock: Clock;
  logger: Logger;
}

/** What `metal pmon status` gets. */
export interface PmondStatus {
  hostname: string;
  /** Monitoring started (goenabled seen and start_delay passed). */
  monitoring: boolean;
  quorum: "ok" | "failed";
  processes: PmonProcessStatus[];
}

export class Pmond {
  readonly hostname: string;
  private readonly cfg: MetalConfig;
  private readonly settings: PmonSettings;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly bad: RateLimitedLog;
  private readonly paths: ReturnType<typeof pmonPaths>;
  private readonly node: ReturnType<typeof nodePaths>;
  private readonly procs = new Map<string, PmonProcess>();
  /** Conf file → its text when last read (so an unchanged file is not re-parsed). */
  private readonly confText = new Map<string, string>();
  private readonly ctx: PmonContext;
  private eventSock?: UdpSocket;
  private amonSock?: UdpSocket;
  private statusServer?: Server;
  private watcher?: FSWatcher;
  private timers: TimerHandle[] = [];
  private rescanTimer?: ReturnType<typeof setTimeout>;
  private goenabledAt: number | undefined;
  private gateOpen = false;
  private running = false;
  private readonly listeners: Array<(e: PmonEvent) => void> = [];
  readonly stats = { pulses: 0, events: 0, suppressed: 0, audits: 0 };

  constructor(o: PmondOptions) {
    this.cfg = o.config;
    this.settings = o.config.pmon;
    this.clock = o.clock;
    this.hostname = o.config.node.hostname;
    this.log = o.logger.child({ svc: "pmond" });
    this.bad = new RateLimitedLog(this.log, this.clock);
    this.paths = pmonPaths(o.config);
    this.node = nodePaths(o.config.root);
    this.ctx = {
      clock: this.clock,
      log: this.log,
      settings: this.settings,
      monitoringAllowed: (p) => this.monitoringAllowed(p),
      event: (p, kind, reason) => this.sendEvent(p, kind, reason),
      restart: (p) => this.restart(p),
      status: (p) => this.statusCheck(p),
      ping: (p, seq) => this.ping(p, seq),
    };
  }

  /** Every event pmond sends (or would send, while /var/run/.node_reset exists it sends none). */
  onEvent(fn: (e: PmonEvent) => void): void {
    this.listeners.push(fn);
  }

  async start(): Promise<void> {
    const s = this.settings;
    // Events, the alive pulse and the active monitor go through the node's datagram authentication (cluster key).
    const auth = datagramAuthFor(this.cfg, this.log);
    this.eventSock = await bindUdp(this.cfg.networks.mgmt.address ?? "127.0.0.1", 0, { auth, label: "pmond events" });
    this.amonSock = await bindUdp(s.loopbackAddress, s.amonPort, { auth, label: "pmond amon", onMessage: (data) => this.onAmon(data) });
    await this.listenStatus();
    this.running = true;
    this.scan();
    try {
      this.watcher = watch(this.paths.confDir, () => this.scheduleScan());
      this.watcher.on("error", () => undefined);
    } catch {
      this.log.warn({ dir: this.paths.confDir }, "cannot watch the conf directory; re-reading it every 5 s");
    }
    this.timers.push(this.clock.setInterval(() => this.audit(), Math.max(1, Math.round(s.auditPeriodMs / 10))));
    this.timers.push(this.clock.setInterval(() => this.pulse(), s.auditPeriodMs));
    this.timers.push(this.clock.setInterval(() => this.reportQuorum(), s.hostwdUpdatePeriod * 1000));
    this.timers.push(this.clock.setInterval(() => this.scan(), RESCAN_MS));
    this.pulse();
    this.reportQuorum();
    this.sendUdpToAgent(encodePmondReady(this.hostname), "ready");
    this.log.info({ confDir: this.paths.confDir, processes: this.procs.size }, "pmond started");
  }

  /** Stop monitoring. Monitored processes keep running (as when pmon.service stops) unless `killChildren`. */
  async stop(options: { killChildren?: boolean } = {}): Promise<void> {
    this.running = false;
    for (const t of this.timers.splice(0)) this.clock.clearInterval(t);
    clearTimeout(this.rescanTimer);
    this.watcher?.close();
    if (options.killChildren) for (const p of this.procs.values()) if (p.child && !p.childExited) p.child.kill("SIGKILL");
    await closeUdp(this.eventSock);
    await closeUdp(this.amonSock);
    await new Promise<void>((resolve) => (this.statusServer ? this.statusServer.close(() => resolve()) : resolve()));
    rmSync(this.paths.statusSocket, { force: true });
  }

  status(): PmondStatus {
    const processes = [...this.procs.values()].map((p) => p.status()).sort((a, b) => a.process.localeCompare(b.process));
    return { hostname: this.hostname, monitoring: this.gateOpen, quorum: this.quorumOk() ? "ok" : "failed", processes };
  }

  process(name: string): PmonProcess | undefined {
    return this.procs.get(name);
  }

  // --- the conf directory ------------------------------------------------------------------------------

  private scheduleScan(): void {
    clearTimeout(this.rescanTimer);
    // inotify reports a write as several events; read once they stop.
    this.rescanTimer = setTimeout(() => this.scan(), 50);
  }

  /** Read the conf directory: new files start monitoring, removed ones stop it, changed ones are re-read. */
  scan(): void {
    if (!this.running) return;
    let files: string[];
    try {
      files = readdirSync(this.paths.confDir)
        .filter((f) => f.endsWith(".conf"))
        .sort();
    } catch {
      files = [];
    }
    const seen = new Set<string>();
    for (const f of files) {
      const file = join(this.paths.confDir, f);
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        continue;
      }
      seen.add(file);
      if (this.confText.get(file) === text) continue;
      this.confText.set(file, text);
      try {
        this.apply(parseProcessConf(text, file, this.cfg.root));
      } catch (err) {
        const code = (err as PmonConfError).code;
        this.log.error({ file, code, err: (err as Error).message }, "process conf ignored");
        this.forgetFile(file);
      }
    }
    for (const file of [...this.confText.keys()]) {
      if (seen.has(file)) continue;
      this.confText.delete(file);
      this.forgetFile(file);
    }
  }

  private apply(conf: PmonProcess["conf"]): void {
    // A file may have been renamed to name another process: forget what it named before.
    for (const p of this.procs.values()) if (p.conf.file === conf.file && p.name !== conf.process) this.remove(p, "its conf now names another process");
    const cur = this.procs.get(conf.process);
    if (cur) {
      if (cur.conf.file !== conf.file) {
        this.bad.warn(`dup-${conf.process}`, { process: conf.process, file: conf.file, other: cur.conf.file }, "two confs name one process; the first is kept");
        return;
      }
      const modeChanged = cur.conf.mode !== conf.mode;
      cur.conf = conf;
      if (modeChanged) cur.run = undefined;
      this.log.info({ process: conf.process, mode: conf.mode }, "process conf changed");
      return;
    }
    if (this.procs.size >= MAX_PROCESSES) {
      this.bad.warn("max", { process: conf.process, max: MAX_PROCESSES }, "too many monitored processes; conf ignored");
      return;
    }
    const p = new PmonProcess(conf, this.ctx);
    this.procs.set(conf.process, p);
    this.log.info({ process: conf.process, mode: conf.mode, severity: conf.severity }, "monitoring process");
    if (conf.command && conf.mode !== "ignore") {
      refreshPid(p);
      if (!p.alive()) this.launch(p);
    }
  }

  private forgetFile(file: string): void {
    for (const p of [...this.procs.values()]) if (p.conf.file === file) this.remove(p, "conf removed");
  }

  private remove(p: PmonProcess, why: string): void {
    this.procs.delete(p.name);
    if (p.alarm) this.sendEvent(p, "clear", why);
    this.log.info({ process: p.name, why }, "process no longer monitored");
  }

  // --- the audit -----------------------------------------------------------------------------------------

  private audit(): void {
    if (!this.running) return;
    this.stats.audits++;
    if (!this.gateOpen) this.checkGate();
    const now = this.clock.now();
    for (const p of this.procs.values()) {
      if (p.conf.mode === "ignore") continue;
      stepHandler(p, passiveHandler);
      if (p.alarm === "major" && now - p.lastRefreshAt >= this.settings.degradeRefreshMs) {
        // The degrade refresh: the mtcAgent keeps the host degraded while this repeats.
        p.lastRefreshAt = now;
        this.sendEvent(p, "major", p.reason);
      }
    }
  }

  /** Monitoring begins start_delay seconds after the goenabled pass file appears. */
  private checkGate(): void {
    const now = this.clock.now();
    if (this.goenabledAt === undefined) {
      if (!existsSync(this.node.goenabledPass)) return;
      this.goenabledAt = now;
      this.log.info({ startDelay: this.settings.startDelay }, "goenabled: monitoring starts after the start delay");
    }
    if (now - this.goenabledAt >= this.settings.startDelay * 1000) {
      this.gateOpen = true;
      this.log.info("process monitoring started");
    }
  }

  private monitoringAllowed(p: PmonProcess): boolean {
    if (!this.gateOpen) return false;
    // subfunction last-config: on AIO, wait until the worker subfunction is configured.
    if (p.conf.subfunction === "last-config" && this.cfg.system.type !== "standard") return existsSync(this.node.workerConfigComplete);
    return true;
  }

  private quorumOk(): boolean {
    for (const p of this.procs.values()) if (p.conf.quorum && p.quorumFailed) return false;
    return true;
  }

  // --- recovery --------------------------------------------------------------------------------------------

  /** Start a process pmond launches itself (conf `command`), writing its pidfile. */
  private launch(p: PmonProcess): void {
    const [file, ...args] = p.conf.command as string[];
    let child: ChildProcess;
    try {
      child = spawn(file as string, args, { stdio: "ignore", cwd: this.cfg.root === "/" ? "/" : this.cfg.root });
    } catch (err) {
      this.log.error({ process: p.name, err: (err as Error).message }, "cannot start process");
      return;
    }
    p.child = child;
    p.childExited = false;
    p.pid = child.pid;
    child.once("error", (err) => {
      if (p.child === child) p.childExited = true;
      this.bad.warn(`spawn-${p.name}`, { process: p.name, err: err.message }, "process failed to start");
    });
    child.once("exit", (code, signal) => {
      if (p.child === child) p.childExited = true;
      if (this.running) this.log.warn({ process: p.name, pid: child.pid, code, signal }, "process exited");
    });
    if (p.conf.pidfile && child.pid) {
      try {
        mkdirSync(dirname(p.conf.pidfile), { recursive: true });
        writeFileSync(p.conf.pidfile, `${child.pid}\n`);
      } catch (err) {
        this.bad.warn(`pidfile-${p.name}`, { process: p.name, err: (err as Error).message }, "cannot write the pidfile");
      }
    }
  }

  private async restart(p: PmonProcess): Promise<{ ok: true } | { ok: false; reason: string }> {
    const c = p.conf;
    if (c.command) {
      if (p.alive() && p.pid !== undefined) {
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      this.launch(p);
      return p.child && !p.childExited ? { ok: true } : { ok: false, reason: `cannot start ${c.command[0]}` };
    }
    const timeout = this.settings.commandTimeoutMs;
    let what: string;
    let r: Awaited<ReturnType<typeof runScript>>;
    if (c.mode === "status" && c.script) {
      what = `${basename(c.script)} ${c.startArg}`;
      r = await runScript(c.script, [c.startArg], timeout);
    } else if (this.settings.recovery === "systemd" && c.service) {
      what = `systemctl restart ${c.service}`;
      r = await runScript("systemctl", ["restart", c.service], timeout);
    } else if (c.script) {
      what = `${basename(c.script)} start`;
      r = await runScript(c.script, ["start"], timeout);
    } else {
      return { ok: false, reason: "no service, script or command to restart it with" };
    }
    if (r.rc === 0) return { ok: true };
    return { ok: false, reason: `${what} failed (rc ${r.rc})${r.output ? `: ${r.output}` : ""}` };
  }

  private async statusCheck(p: PmonProcess): Promise<{ ok: true } | { ok: false; reason: string }> {
    const c = p.conf;
    if (!c.script) return { ok: false, reason: "no status script" };
    const r = await runScript(c.script, [c.statusArg], Math.max(1000, c.timeout * 1000), true);
    if (r.rc === 0) return { ok: true };
    let text = "";
    if (c.statusFailureText) {
      try {
        text = readFileSync(c.statusFailureText, "utf8").trim().slice(0, 256);
      } catch {
        // no failure text written
      }
    }
    const parts = [`${basename(c.script)} ${c.statusArg} failed (rc ${r.rc})`];
    if (text) parts.push(text);
    else if (r.output) parts.push(r.output);
    return { ok: false, reason: parts.join(": ") };
  }

  // --- messages ----------------------------------------------------------------------------------------------

  private functionMask(p: PmonProcess): number {
    const sub = p.conf.subfunction ? FUNCTION_MASK[p.conf.subfunction] : undefined;
    if (sub !== undefined) return sub;
    return this.cfg.node.subfunctions.reduce((m, f) => m | (FUNCTION_MASK[f] ?? 0), 0);
  }

  private sendEvent(p: PmonProcess, kind: PmonEventKind, reason?: string): void {
    const e: PmonEvent = { kind, hostname: this.hostname, process: p.name, functionMask: this.functionMask(p), ...(reason ? { reason } : {}) };
    if (existsSync(this.node.nodeReset)) {
      this.stats.suppressed++;
      this.bad.warn("node-reset", { process: p.name, kind }, "node reset in progress: pmon event not sent");
      return;
    }
    this.stats.events++;
    this.log.info({ process: p.name, event: kind, reason }, "pmon event");
    for (const fn of this.listeners) fn(e);
    let data: Buffer;
    try {
      data = encodePmonEvent(e);
    } catch (err) {
      this.bad.warn("encode", { process: p.name, kind, err: (err as Error).message }, "pmon event not sent: cannot encode it");
      return;
    }
    this.sendUdpToAgent(data, `event-${kind}`);
  }

  private sendUdpToAgent(data: Buffer, what: string): void {
    if (!this.eventSock) return;
    const to = this.cfg.networks.mgmt.controller ?? "127.0.0.1";
    sendUdp(this.eventSock, data, this.cfg.ports.agentMgmt, to, (err) => this.bad.warn(what, { err: err.message, to }, "cannot send to the mtcAgent"));
  }

  private pulse(): void {
    if (!this.running || !this.eventSock) return;
    this.stats.pulses++;
    sendUdp(this.eventSock, encodePmondPulse(this.hostname), this.cfg.ports.pmonPulse, this.settings.loopbackAddress, (err) =>
      this.bad.warn("pulse", { err: err.message }, "cannot send the alive pulse to hbsClient"),
    );
  }

  private ping(p: PmonProcess, seq: number): void {
    if (!this.amonSock || p.conf.port === undefined) return;
    sendUdp(this.amonSock, encodeAmonRequest(p.name, seq), p.conf.port, this.settings.loopbackAddress, (err) =>
      this.bad.warn(`amon-${p.name}`, { err: err.message }, "cannot send an active-monitor request"),
    );
  }

  private onAmon(data: Buffer): void {
    const name = data.toString("latin1", 0, Math.min(data.length, 80)).split(" ")[0] ?? "";
    const p = this.procs.get(name);
    if (p && amonResponseMatches(data, p.name, p.amonSeq)) p.amonAnswered = p.amonSeq;
  }

  private reportQuorum(): void {
    if (!this.running) return;
    const failed = [...this.procs.values()].filter((p) => p.conf.quorum && p.quorumFailed).map((p) => p.name);
    const sock = createConnection(this.paths.hostwdSocket);
    sock.on("error", (err) => this.bad.warn("hostwd", { err: err.message }, "cannot report the quorum to hostwd"));
    sock.end(encodeQuorumReport({ hostname: this.hostname, quorum: failed.length ? "failed" : "ok", failed }));
  }

  private async listenStatus(): Promise<void> {
    const path = this.paths.statusSocket;
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    const server = createServer((sock) => {
      sock.on("error", () => undefined);
      sock.end(`${JSON.stringify(this.status())}\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.statusServer = server;
  }
}
