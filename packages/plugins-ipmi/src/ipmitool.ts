import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BmcError, type BmcErrorCode, type BmcTarget, type Clock } from "@metal/core/plugin-api";
import { secretTempDir } from "@metal/core/security/secret-temp";
import { execa, type ResultPromise } from "execa";
import { classifyIpmitoolFailure } from "./classify.js";
import { BmcLane } from "./lane.js";

/** Lines ipmitool prints under -v that say why a session could not be opened. */
const AUTH_FAILURE = [/RAKP 2 HMAC is invalid/i, /unauthorized name/i, /invalid (user ?name|password)/i, /RAKP \d message indicates an error/i];
const UNREACHABLE = [/Get Auth Capabilities error/i, /Error issuing Get Channel Authentication Capabilities/i, /No response from remote/i];
const CIPHER_FAILURE = [/invalid authentication algorithm/i, /invalid integrity algorithm/i, /invalid confidentiality algorithm/i, /no matching cipher suite/i];

export interface IpmitoolOptions {
  /** "file" (-f <0600 file>, the reference's way) or "env" (-E with IPMI_PASSWORD). Never argv. */
  passwordVia: "file" | "env";
  interface: string;
  /** Cipher suites to try in order, e.g. [17, 3]; the first that opens a session is kept. */
  cipherSuites: number[];
  privilege?: string;
  /** ipmitool's own -R/-N (Ironic's lesson: a 1 s single retry is too short for slow BMCs). */
  ipmitoolRetries: number;
  ipmitoolIntervalS: number;
  /** Our retries for the retryable messages above, with backoff. */
  retries: number;
  backoffMs: number;
  /** Per-call bound; the child is killed (SIGKILL) when it passes. */
  timeoutMs: number;
  /** Per-BMC minimum gap between two commands ("setting this too low may cause the BMC to crash"). */
  minIntervalMs: number;
  binary: string;
}

export function ipmitoolOptions(target: BmcTarget): IpmitoolOptions {
  const o = target.options ?? {};
  const num = (k: string, d: number) => (typeof o[k] === "number" ? (o[k] as number) : typeof o[k] === "string" && o[k] !== "" ? Number(o[k]) : d);
  const suites = typeof o.cipherSuites === "string" ? o.cipherSuites.split(",").map(Number) : [num("cipherSuite", 3)];
  return {
    passwordVia: o.passwordVia === "env" ? "env" : "file",
    interface: typeof o.interface === "string" ? o.interface : "lanplus",
    cipherSuites: suites.filter((s) => Number.isInteger(s) && s >= 0 && s <= 17),
    ...(typeof o.privilege === "string" ? { privilege: o.privilege.toUpperCase() } : {}),
    ipmitoolRetries: num("ipmitoolRetries", 1),
    ipmitoolIntervalS: num("ipmitoolIntervalS", 1),
    retries: num("retries", 3),
    backoffMs: num("backoffMs", 1000),
    timeoutMs: target.timeoutMs ?? 20_000,
    minIntervalMs: num("minIntervalMs", 100),
    binary: typeof o.ipmitool === "string" ? o.ipmitool : "ipmitool",
  };
}

/** A failed ipmitool run, its output kept for classification. */
interface RunFailure {
  stderr: string;
  stdout: string;
  timedOut: boolean;
  missing: boolean;
}

/**
 * Runs ipmitool for one BMC: the password in a 0600 file or the environment, a per-call timeout that kills
 * the child, retries for the retryable messages, cipher-suite fallback, and every command of this BMC
 * serialized through its lane with a minimum interval.
 */
export class Ipmitool {
  private pwDir: string | undefined;
  private suiteIndex = 0;
  private readonly lane: BmcLane;
  /** ipmitool processes running now: killed by close(), so a stopping agent leaves none behind. */
  private readonly children = new Set<ResultPromise>();
  private closed = false;
  readonly stats = { runs: 0, retries: 0 };

  constructor(
    private readonly target: BmcTarget,
    private readonly o: IpmitoolOptions,
    private readonly clock: Clock,
  ) {
    if (this.o.cipherSuites.length === 0) throw new BmcError("protocol", "no valid cipher suite configured", target.host);
    this.lane = BmcLane.for(`${target.address}:${target.port ?? 623}`, clock);
  }

  private passwordFile(): string {
    if (!this.pwDir) {
      this.pwDir = secretTempDir("metal-ipmi-");
      writeFileSync(join(this.pwDir, "pw"), this.target.password.reveal(), { mode: 0o600 });
    }
    return join(this.pwDir, "pw");
  }

  private baseArgs(suite: number, verbose: boolean): string[] {
    const t = this.target;
    const args = ["-I", this.o.interface, "-H", t.address, "-p", String(t.port ?? 623), "-U", t.username];
    args.push(...(this.o.passwordVia === "env" ? ["-E"] : ["-f", this.passwordFile()]));
    if (this.o.interface === "lanplus") args.push("-C", String(suite));
    if (this.o.privilege) args.push("-L", this.o.privilege);
    args.push("-R", String(this.o.ipmitoolRetries), "-N", String(this.o.ipmitoolIntervalS));
    if (verbose) args.push("-v");
    return args;
  }

  private async exec(command: string[], suite: number, verbose = false): Promise<{ ok: true; stdout: string } | { ok: false; failure: RunFailure }> {
    this.stats.runs++;
    if (this.closed) throw new BmcError("protocol", "driver is closed", this.target.host);
    const env = this.o.passwordVia === "env" ? { IPMI_PASSWORD: this.target.password.reveal() } : {};
    const child = execa(this.o.binary, [...this.baseArgs(suite, verbose), ...command], {
      reject: false,
      timeout: this.o.timeoutMs,
      killSignal: "SIGKILL",
      env,
      stdin: "ignore",
      stripFinalNewline: false,
      maxBuffer: 4 * 1024 * 1024,
    });
    this.children.add(child);
    let r: Awaited<typeof child>;
    try {
      r = await child;
    } finally {
      this.children.delete(child);
    }
    if (this.closed) throw new BmcError("protocol", "driver is closed", this.target.host);
    if (r.exitCode === 0 && !r.timedOut) return { ok: true, stdout: r.stdout };
    const missing = (r as { code?: string }).code === "ENOENT";
    return { ok: false, failure: { stderr: `${r.stderr}`, stdout: `${r.stdout}`, timedOut: r.timedOut, missing } };
  }

  private firstLine(text: string): string {
    return (
      text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !/^Loading IANA/.test(l))
        .pop() ?? "no output"
    );
  }

  /** ipmitool says "Unable to establish ... session" for a wrong password and a dead BMC alike; -v tells them apart. */
  private async diagnoseSession(suite: number): Promise<{ code: BmcErrorCode; why: string }> {
    const probe = await this.exec(["chassis", "power", "status"], suite, true);
    if (probe.ok) return { code: "busy", why: "the session failed once, then opened" };
    const text = probe.failure.stderr + probe.failure.stdout;
    const c = classifyIpmitoolFailure(text, ["chassis", "power", "status"]);
    if (c.kind === "busy") return { code: "busy", why: `BMC ${this.where()}: ${this.firstLine(text.replace(/^.*Unable to establish.*$/gim, ""))}` };
    if (c.kind === "permission")
      return { code: "permission", why: `BMC ${this.where()}: user '${this.target.username}' may not open a session at ${c.privilege}` };
    if (AUTH_FAILURE.some((re) => re.test(text))) return { code: "auth", why: `BMC ${this.where()} rejected the credentials for '${this.target.username}'` };
    if (CIPHER_FAILURE.some((re) => re.test(text))) return { code: "protocol", why: `BMC ${this.where()} refused cipher suite ${suite}` };
    if (UNREACHABLE.some((re) => re.test(text)) || probe.failure.timedOut) return { code: "unreachable", why: `BMC ${this.where()} does not answer` };
    return { code: "unreachable", why: `BMC ${this.where()}: ${this.firstLine(text)}` };
  }

  private where(): string {
    return `${this.target.address}:${this.target.port ?? 623}`;
  }

  /** The command line and environment of a long-running ipmitool (SOL), outside the lane. */
  commandLine(command: string[]): { file: string; args: string[]; env: Record<string, string> } {
    const suite = this.o.cipherSuites[this.suiteIndex] ?? 3;
    const env: Record<string, string> = this.o.passwordVia === "env" ? { IPMI_PASSWORD: this.target.password.reveal() } : {};
    return { file: this.o.binary, args: [...this.baseArgs(suite, false), ...command], env };
  }

  /** Run one ipmitool command through this BMC's lane; stdout on success, a classified BmcError otherwise. */
  run(command: string[]): Promise<string> {
    return this.lane.run(this.o.minIntervalMs, () => this.runUnserialized(command));
  }

  private async runUnserialized(command: string[]): Promise<string> {
    const what = command.join(" ");
    let last: BmcError | undefined;
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await this.clock.sleep(this.o.backoffMs * 2 ** (attempt - 1));
      }
      const suite = this.o.cipherSuites[this.suiteIndex] ?? 3;
      const r = await this.exec(command, suite);
      if (r.ok) return r.stdout;
      const f = r.failure;
      if (f.missing) throw new BmcError("protocol", `${this.o.binary} is not installed`, this.target.host);
      if (f.timedOut) {
        last = new BmcError("timeout", `ipmitool ${what}: no answer from ${this.where()} within ${this.o.timeoutMs} ms (killed)`, this.target.host);
        continue;
      }
      const text = f.stderr + f.stdout;
      const c = classifyIpmitoolFailure(text, command);
      if (c.kind === "permission") {
        const level = this.o.privilege ?? "ADMINISTRATOR";
        throw new BmcError(
          "permission",
          c.privilege && c.privilege === level
            ? `BMC ${this.where()}: user '${this.target.username}' may not open a session at ${level} privilege; grant it on the BMC or set the privilege option to the user's level (-L)`
            : `ipmitool ${what}: BMC ${this.where()} refused it for user '${this.target.username}' (session at ${level}); it needs ${c.privilege ?? "a higher"} privilege`,
          this.target.host,
        );
      }
      if (c.kind === "busy") {
        // Checked before the session failure: a busy BMC also says "Unable to establish ... session".
        last = new BmcError("busy", `ipmitool ${what}: ${this.firstLine(text.replace(/^.*Unable to establish.*$/gim, ""))}`, this.target.host);
        continue;
      }
      if (c.kind === "session") {
        const d = await this.diagnoseSession(suite);
        if (d.code === "protocol" && this.suiteIndex + 1 < this.o.cipherSuites.length) {
          this.suiteIndex++;
          attempt--;
          continue;
        }
        if (d.code === "busy") {
          last = new BmcError("busy", d.why, this.target.host);
          continue;
        }
        throw new BmcError(d.code, d.why, this.target.host);
      }
      throw new BmcError(c.kind, `ipmitool ${what}: ${this.firstLine(text)}`, this.target.host);
    }
    throw last ?? new BmcError("protocol", `ipmitool ${what}: failed`, this.target.host);
  }

  /**
   * Kill every ipmitool still running (SIGKILL: a BMC call in flight must not outlive a stopping agent), refuse
   * new runs, and remove the password file. Safe to call twice.
   */
  close(): void {
    this.closed = true;
    for (const child of this.children) child.kill("SIGKILL");
    this.children.clear();
    if (this.pwDir) rmSync(this.pwDir, { recursive: true, force: true });
    this.pwDir = undefined;
  }
}
