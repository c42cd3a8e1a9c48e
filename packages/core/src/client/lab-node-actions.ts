import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NodePaths } from "../config/paths.js";
import type { Clock, Logger } from "../plugin-api/services.js";
import type { NodeActions } from "./node-actions.js";

/** The lab writes the boot time here when it (re)starts a simulated host; uptime counts from it. */
export const LAB_BOOT_FILE = "lab/booted-at";
/** A lab host's mtcClient writes this (the boot's lab time) once it answers: the lab adds hosts that are running. */
export const LAB_CLIENT_UP_FILE = "lab/mtc-client-up";
/** Exit code of a client whose host "rebooted": the lab starts it again after a simulated boot. */
export const LAB_REBOOT_EXIT_CODE = 75;

/**
 * A simulated machine for the lab: a reboot wipes the volatile `/var/run` (as a real reboot does, so the
 * persistent node-locked file decides the lock state at the next start) and ends the client process with
 * LAB_REBOOT_EXIT_CODE; the lab brings the host back. Wipedisk also clears `/var/persist`.
 */
export class LabNodeActions implements NodeActions {
  private readonly startedAt: number;
  constructor(
    private readonly paths: NodePaths,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {
    this.startedAt = clock.now();
  }

  private async goDown(kind: string, reason: string, wipe = false): Promise<void> {
    this.log.warn({ kind, reason }, "lab host going down");
    await rm(this.paths.varRun, { recursive: true, force: true });
    if (wipe) await rm(this.paths.persistMtc, { recursive: true, force: true });
    await mkdir(join(this.paths.root, "lab"), { recursive: true });
    await writeFile(join(this.paths.root, "lab", "last-reboot"), `${kind} ${reason}\n`);
    this.exit(LAB_REBOOT_EXIT_CODE);
  }

  reboot(reason: string): Promise<void> {
    return this.goDown("reboot", reason);
  }

  reset(reason: string): Promise<void> {
    return this.goDown("reset", reason);
  }

  wipedisk(reason: string): Promise<void> {
    return this.goDown("wipedisk", reason, true);
  }

  sysrq(key: "b" | "c"): Promise<void> {
    return this.goDown(key === "c" ? "crashdump" : "sysrq-reboot", "failsafe");
  }

  async stopPmon(): Promise<void> {}

  async sync(): Promise<void> {}

  /** A lab host's vault fails when the lab (or a test) drops `lab/luks-failed` into its root. */
  async luksVaultFailed(): Promise<boolean> {
    return existsSync(join(this.paths.root, "lab", "luks-failed"));
  }

  async uptimeSeconds(): Promise<number> {
    const text = await readFile(join(this.paths.root, LAB_BOOT_FILE), "utf8").catch(() => undefined);
    const booted = text === undefined ? this.startedAt : Number(text);
    return Math.max(0, Math.floor((this.clock.now() - (Number.isFinite(booted) ? booted : this.startedAt)) / 1000));
  }
}
