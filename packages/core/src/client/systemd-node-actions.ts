import { writeFile } from "node:fs/promises";
import { uptime } from "node:os";
import { execa } from "execa";
import type { Logger } from "../plugin-api/services.js";
import type { NodeActions } from "./node-actions.js";

/** `systemctl stop pmon` is tried this many times before a reboot goes ahead regardless. */
const PMON_STOP_TRIES = 5;

/**
 * The real machine: systemctl for reboots, the wipedisk tool, magic SysRq as the failsafe
 * (mtcNodeComp.cpp / mtcCompMsg.cpp). Commands are fixed argv lists; nothing from the wire reaches them.
 */
export interface SystemdNodeActionsOptions {
  sysrqTrigger?: string;
  wipedisk?: string;
  /** Directories searched before PATH for systemctl and sync (tests put recording stand-ins there). */
  binDirs?: string[];
}

export class SystemdNodeActions implements NodeActions {
  private readonly sysrqTrigger: string;
  private readonly wipediskTool: string;
  private readonly env: Record<string, string>;

  constructor(
    private readonly log: Logger,
    options: SystemdNodeActionsOptions = {},
  ) {
    this.sysrqTrigger = options.sysrqTrigger ?? "/proc/sysrq-trigger";
    this.wipediskTool = options.wipedisk ?? "/usr/local/bin/wipedisk";
    this.env = options.binDirs?.length ? { PATH: [...options.binDirs, process.env.PATH ?? ""].join(":") } : {};
  }

  private async run(file: string, args: string[]): Promise<number> {
    const r = await execa(file, args, { reject: false, timeout: 60_000, stdin: "ignore", env: this.env });
    if (r.exitCode !== 0) this.log.warn({ cmd: [file, ...args].join(" "), rc: r.exitCode, err: r.stderr?.toString().slice(0, 200) }, "node action failed");
    return r.exitCode ?? -1;
  }

  async reboot(reason: string): Promise<void> {
    this.log.warn({ reason }, "rebooting (systemctl reboot)");
    await this.run("systemctl", ["reboot"]);
  }

  async reset(reason: string): Promise<void> {
    this.log.warn({ reason }, "resetting (systemctl reboot --force)");
    await this.run("systemctl", ["reboot", "--force"]);
  }

  async wipedisk(reason: string): Promise<void> {
    this.log.warn({ reason }, "wiping the boot disk, then a forced reboot");
    await this.run(this.wipediskTool, ["--force"]);
    await this.run("systemctl", ["reboot", "--force"]);
  }

  async sysrq(key: "b" | "c"): Promise<void> {
    this.log.error({ key }, "failsafe: magic SysRq");
    await writeFile(this.sysrqTrigger, key).catch((err: Error) => this.log.error({ err: err.message }, "sysrq trigger failed"));
  }

  async stopPmon(): Promise<void> {
    for (let i = 0; i < PMON_STOP_TRIES; i++) if ((await this.run("systemctl", ["stop", "pmon"])) === 0) return;
  }

  async sync(): Promise<void> {
    await this.run("sync", []);
  }

  /** A machine without cryptsetup has no vault to fail; otherwise its status decides. */
  async luksVaultFailed(): Promise<boolean> {
    const r = await execa("cryptsetup", ["status", "luks_encrypted_vault"], { reject: false, timeout: 10_000, stdin: "ignore", env: this.env });
    if (r.code === "ENOENT") return false;
    return r.exitCode !== 0;
  }

  async uptimeSeconds(): Promise<number> {
    return Math.floor(uptime());
  }
}
