import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LAB_BOOT_FILE, LAB_REBOOT_EXIT_CODE } from "../client/lab-node-actions.js";
import { nodePaths } from "../config/paths.js";
import type { MetalConfigInput } from "../config/schema.js";
import type { Clock } from "../plugin-api/services.js";

const METAL_MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

export type LabHostPhase = "starting" | "up" | "rebooting" | "crashed" | "stopped";

/** Simulated host i gets 127.0.1.(i+1): its own loopback address, as a real host has its own mgmt IP. */
export function simHostAddress(i: number): string {
  if (i < 0 || i > 253) throw new RangeError("the lab supports 1..254 hosts");
  return `127.0.1.${i + 1}`;
}

export function simHostMac(i: number): string {
  return `52:54:00:1a:b0:${(i + 1).toString(16).padStart(2, "0")}`;
}

/**
 * One simulated host: its own root directory (flag files, goenabled.d, services.d) and a real
 * `metal client` process. A reboot (the lab NodeActions end the process with LAB_REBOOT_EXIT_CODE) brings
 * the host back after a simulated boot time, with a fresh uptime and an empty /var/run.
 */
export class LabHost {
  phase: LabHostPhase = "starting";
  boots = 0;
  proc?: ChildProcess;
  private restartTimer: ReturnType<Clock["setTimeout"]> | undefined;
  private lastStderr = "";

  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly mac: string,
    readonly root: string,
    private readonly clientConfig: MetalConfigInput,
    private readonly clock: Clock,
    private readonly bootDelayMs: number,
  ) {}

  /** Lay out the host's root as a configured, healthy worker whose goenabled and host-services scripts pass. */
  prepare(): string {
    const p = nodePaths(this.root);
    for (const d of [p.varRun, p.persistMtc, join(this.root, "etc/platform"), p.goenabledDir, p.servicesDir("worker"), join(this.root, "lab")])
      mkdirSync(d, { recursive: true });
    writeFileSync(p.initialConfigComplete, "");
    writeFileSync(join(p.goenabledDir, "10-lab-check.sh"), '#!/bin/sh\ntest "$1" = start\n', { mode: 0o755 });
    writeFileSync(join(p.servicesDir("worker"), "mtcTest"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const file = join(this.root, "client.json");
    writeFileSync(file, JSON.stringify(this.clientConfig, null, 2));
    return file;
  }

  /** Boot: the volatile files puppet and the goenabled service write, then the client. */
  boot(configFile: string): void {
    const p = nodePaths(this.root);
    mkdirSync(p.varRun, { recursive: true });
    writeFileSync(p.configPass, "");
    writeFileSync(p.goenabledMainReady, "Ready to Run GoEnabled Scripts\n");
    writeFileSync(join(this.root, LAB_BOOT_FILE), String(this.clock.now()));
    this.boots++;
    this.phase = "up";
    const proc = spawn(process.execPath, [METAL_MAIN, "client", "--config", configFile], { stdio: ["ignore", "ignore", "pipe"] });
    this.proc = proc;
    proc.stderr?.on("data", (c: Buffer) => {
      this.lastStderr = (this.lastStderr + c.toString()).slice(-4000);
    });
    proc.once("exit", (code) => {
      if (this.phase === "stopped") return;
      this.phase = code === LAB_REBOOT_EXIT_CODE ? "rebooting" : "crashed";
      this.restartTimer = this.clock.setTimeout(() => this.boot(configFile), this.bootDelayMs);
    });
  }

  stderrTail(): string {
    return this.lastStderr;
  }

  async stop(): Promise<void> {
    this.phase = "stopped";
    this.clock.clearTimeout(this.restartTimer);
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  }
}
