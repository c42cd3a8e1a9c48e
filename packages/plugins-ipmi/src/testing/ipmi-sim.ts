import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A sensor of the simulated BMC. Threshold kinds: values are raw bytes scaled by `m` (reading = raw × m).
 * `discrete` (a power-supply presence sensor, sensor-specific event/reading type 0x6f): `raw` is the
 * asserted state bit. `noReading`: scanning is disabled, so ipmitool shows the sensor as `na`.
 */
export interface SimSensor {
  name: string;
  kind: "temperature" | "fan" | "voltage" | "discrete";
  raw: number;
  /** Raw threshold bytes. */
  thresholds?: { lnr?: number; lcr?: number; lnc?: number; unc?: number; ucr?: number; unr?: number };
  noReading?: boolean;
}

/** Another BMC account with its maximum privilege (ipmi_lan `user` line). */
export interface SimUser {
  name: string;
  password: string;
  privilege: "callback" | "user" | "operator" | "admin";
}

export interface IpmiSimOptions {
  username?: string;
  password?: string;
  sensors?: SimSensor[];
  /** A serial device (e.g. one end of a socat pty pair) that SOL connects to. */
  solDevice?: string;
  /** How often ipmi_sim re-reads each sensor's value file (ms). */
  sensorPollMs?: number;
  /** Accounts besides the admin one, e.g. a `user`-privilege account for permission errors. */
  users?: SimUser[];
  /** FRU device 0's product info area (`fru print 0`); default ACME / X1 / S123. */
  fru?: { manufacturer: string; product: string; serial: string };
}

/** A FRU image (IPMI Platform Management FRU Information Storage Definition v1.0) with one product info area. */
export function fruImage(f: { manufacturer: string; product: string; serial: string }): number[] {
  const field = (v: string) => {
    const b = [...Buffer.from(v.slice(0, 63), "latin1")];
    return [0xc0 | b.length, ...b];
  };
  const checksum = (bytes: number[]) => (0x100 - (bytes.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
  // version, length (filled below), language English; manufacturer, name, part, version, serial, asset tag, FRU file id; end.
  const area = [
    0x01,
    0x00,
    0x00,
    ...field(f.manufacturer),
    ...field(f.product),
    ...field(""),
    ...field(""),
    ...field(f.serial),
    ...field(""),
    ...field(""),
    0xc1,
  ];
  while ((area.length + 1) % 8 !== 0) area.push(0x00);
  area[1] = (area.length + 1) / 8;
  area.push(checksum(area));
  const header = [0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];
  return [...header, checksum(header), ...area];
}

export const DEFAULT_SIM_SENSORS: SimSensor[] = [
  { name: "Temp_CPU0", kind: "temperature", raw: 42, thresholds: { unc: 85, ucr: 95, unr: 100 } },
  { name: "Fan_1", kind: "fan", raw: 112, thresholds: { lnr: 5, lcr: 10, lnc: 20 } },
  { name: "PSU1_Vin", kind: "voltage", raw: 230, thresholds: { lcr: 180, ucr: 250 } },
];

/** IPMI sensor type, base unit and M factor per kind. */
const KINDS = {
  temperature: { type: 0x01, unit: 0x01, m: 1, reading: 0x01 },
  voltage: { type: 0x02, unit: 0x04, m: 1, reading: 0x01 },
  fan: { type: 0x04, unit: 0x12, m: 50, reading: 0x01 },
  discrete: { type: 0x08, unit: 0x00, m: 1, reading: 0x6f },
} as const;
const ENTITY = { temperature: 0x03, voltage: 0x0a, fan: 0x1d, discrete: 0x0a } as const;

const hex = (n: number) => `0x${(n & 0xff).toString(16).padStart(2, "0")}`;

/** A Full Sensor Record (SDR type 0x01) for one threshold sensor, as `main_sdr_add` bytes. */
function fullSensorRecord(recordId: number, sensorNumber: number, s: SimSensor): string {
  const k = KINDS[s.kind];
  const t = s.thresholds ?? {};
  const name = Buffer.from(s.name.slice(0, 16), "ascii");
  const mask =
    (t.lnc !== undefined ? 1 : 0) |
    (t.lcr !== undefined ? 2 : 0) |
    (t.lnr !== undefined ? 4 : 0) |
    (t.unc !== undefined ? 8 : 0) |
    (t.ucr !== undefined ? 16 : 0) |
    (t.unr !== undefined ? 32 : 0);
  // biome-ignore format: one SDR field per group
  const body = [
    0x20, 0x00, sensorNumber, ENTITY[s.kind], 0x01,
    0x67, // initialization: scanning, events, thresholds, hysteresis, type
    0x68, // capabilities: auto re-arm, hysteresis and thresholds readable+settable
    k.type, k.reading, // sensor type, event/reading type (threshold or sensor-specific)
    0x00, 0x00, 0x00, 0x00, // assertion / deassertion masks
    mask, mask, // readable, settable thresholds
    s.kind === "discrete" ? 0xc0 : 0x00, k.unit, 0x00, 0x00, // unsigned analog (none for discrete), base unit, no modifier, linear
    k.m, 0x00, 0x00, 0x00, 0x00, 0x00, // M, tolerance, B, accuracy, R/B exponents
    0x00, 0x00, 0x00, 0x00, 0xff, 0x00, // analog flags, nominal, normal max/min, sensor max/min
    t.unr ?? 0, t.ucr ?? 0, t.unc ?? 0, t.lnr ?? 0, t.lcr ?? 0, t.lnc ?? 0,
    0x00, 0x00, 0x00, 0x00, 0x00, // hysteresis, reserved, OEM
    0xc0 | name.length, ...name,
  ];
  return [recordId & 0xff, recordId >> 8, 0x51, 0x01, body.length, ...body].map(hex).join(" ");
}

/** Answers ipmi_sim's chassis_control protocol (`get power`, `set power "1"`, ...) from a state file; logs every set. */
const CHASSIS_SCRIPT = `#!/bin/sh
dir=$(dirname "$0")
state="$dir/chassis.state"
[ -f "$state" ] || printf 'power=0\\nboot=none\\n' > "$state"
op=$1; shift
case "$op" in
  get) for k in "$@"; do v=$(sed -n "s/^$k=//p" "$state"); echo "$k:\${v:-0}"; done ;;
  set) while [ $# -ge 2 ]; do
         k=$1; v=$2; shift 2
         echo "$k $v" >> "$dir/chassis.log"
         case "$k" in
           power|boot) grep -v "^$k=" "$state" > "$state.tmp"; echo "$k=$v" >> "$state.tmp"; mv "$state.tmp" "$state" ;;
           shutdown) grep -v "^power=" "$state" > "$state.tmp"; echo "power=0" >> "$state.tmp"; mv "$state.tmp" "$state" ;;
         esac
       done ;;
esac
`;

async function freeUdpPort(): Promise<number> {
  const sock = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(0, "127.0.0.1", () => resolve());
  });
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

/**
 * OpenIPMI's ipmi_sim on a free loopback UDP port, with a chassis-control script so power really changes,
 * sensors with SDRs whose values come from files the test can rewrite, and optional SOL to a serial device.
 */
export class IpmiSim {
  private child: ChildProcess | undefined;
  private stderr = "";

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly username: string,
    readonly password: string,
    readonly sensors: SimSensor[],
  ) {}

  static async start(opts: IpmiSimOptions = {}): Promise<IpmiSim> {
    if (!existsSync("/usr/bin/ipmi_sim")) throw new Error("ipmi_sim is not installed (Debian package openipmi; run scripts/setup.sh peers)");
    const dir = mkdtempSync(join(tmpdir(), "metal-ipmisim-"));
    const sim = new IpmiSim(dir, 0, opts.username ?? "admin", opts.password ?? "secret", opts.sensors ?? DEFAULT_SIM_SENSORS);
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freeUdpPort();
      (sim as { port: number }).port = port;
      sim.writeFiles(opts);
      if (await sim.launch()) return sim;
    }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ipmi_sim did not start: ${sim.stderr.trim()}`);
  }

  private writeFiles(opts: IpmiSimOptions): void {
    const d = this.dir;
    writeFileSync(join(d, "chassis.sh"), CHASSIS_SCRIPT);
    chmodSync(join(d, "chassis.sh"), 0o755);
    const lan = [
      'name "metalsim"',
      "set_working_mc 0x20",
      "  startlan 1",
      `    addr 127.0.0.1 ${this.port}`,
      "    priv_limit admin",
      ...["callback", "user", "operator", "admin"].map((p) => `    allowed_auths_${p} none md2 md5 straight`),
      "    guid a123456789abcdefa123456789abcdef",
      "  endlan",
      ...(opts.solDevice ? [`  sol "${opts.solDevice}" 115200`] : []),
      `  chassis_control "${join(d, "chassis.sh")}"`,
      `  user 2 true "${this.username}" "${this.password}" admin 10 none md2 md5 straight`,
      ...(opts.users ?? []).map((u, i) => `  user ${i + 3} true "${u.name}" "${u.password}" ${u.privilege} 10 none md2 md5 straight`),
      "",
    ];
    writeFileSync(join(d, "lan.conf"), lan.join("\n"));
    const poll = opts.sensorPollMs ?? 200;
    const cmds = ["mc_setbmc 0x20", "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr", "sel_enable 0x20 1000 0x0a"];
    this.sensors.forEach((s, i) => {
      const num = i + 1;
      const file = join(d, `sensor-${num}`);
      writeFileSync(file, `${s.raw}\n`);
      cmds.push(`main_sdr_add 0x20 ${fullSensorRecord(num, num, s)}`);
      if (s.kind === "discrete") {
        cmds.push(`sensor_add 0x20 0 ${num} ${hex(KINDS.discrete.type)} 0x6f`);
        cmds.push(`sensor_set_bit_clr_rest 0x20 0 ${num} ${s.raw} 1 0`);
      } else {
        const t = s.thresholds ?? {};
        const enabled = [t.unr, t.ucr, t.unc, t.lnr, t.lcr, t.lnc].map((v) => (v === undefined ? "0" : "1")).join("");
        const values = [t.unr, t.ucr, t.unc, t.lnr, t.lcr, t.lnc].map((v) => v ?? 0).join(" ");
        cmds.push(`sensor_add 0x20 0 ${num} ${hex(KINDS[s.kind].type)} 0x01 poll ${poll} file "${file}"`);
        cmds.push(`sensor_set_threshold 0x20 0 ${num} 2 ${enabled} ${values}`);
        cmds.push(`sensor_set_value 0x20 0 ${num} ${s.raw} 0`);
      }
      if (s.noReading) {
        const none = "0".repeat(15);
        cmds.push(`sensor_set_event_support 0x20 0 ${num} disable no-scanning none ${none} ${none} ${none} ${none}`);
      }
    });
    const fru = fruImage(opts.fru ?? { manufacturer: "ACME", product: "X1", serial: "S123" });
    cmds.push(`mc_add_fru_data 0x20 0 ${hex(fru.length)} data ${fru.map(hex).join(" ")}`);
    cmds.push("mc_enable 0x20", "");
    writeFileSync(join(d, "cmds.emu"), cmds.join("\n"));
    writeFileSync(join(d, "pw"), this.password, { mode: 0o600 });
    rmSync(join(d, "state"), { recursive: true, force: true });
    mkdirSync(join(d, "state"));
  }

  private async launch(): Promise<boolean> {
    this.stderr = "";
    const child = spawn("ipmi_sim", ["-c", join(this.dir, "lan.conf"), "-f", join(this.dir, "cmds.emu"), "-n", "-s", join(this.dir, "state")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.child = child;
    child.stderr?.on("data", (c: Buffer) => {
      this.stderr += c.toString();
    });
    let exited = false;
    child.once("exit", () => {
      exited = true;
    });
    // Ready when ipmitool gets an answer; bounded in count and time.
    for (let i = 0; i < 40 && !exited; i++) {
      try {
        const { stdout } = await run("ipmitool", [...this.ipmitoolArgs(), "chassis", "power", "status"], { timeout: 5_000 });
        if (/Chassis Power is/.test(stdout)) return true;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGKILL");
    return false;
  }

  /** Arguments for ipmitool against this simulator (password via the 0600 file). */
  ipmitoolArgs(): string[] {
    return ["-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", String(this.port), "-U", this.username, "-f", join(this.dir, "pw"), "-R", "1", "-N", "1"];
  }

  /** Change a sensor's raw value; ipmi_sim picks it up at its next poll. */
  setSensorRaw(name: string, raw: number): void {
    const i = this.sensors.findIndex((s) => s.name === name);
    if (i < 0) throw new Error(`no simulated sensor '${name}'`);
    writeFileSync(join(this.dir, `sensor-${i + 1}`), `${raw}\n`);
  }

  /** Every chassis control the BMC executed ("power 1", "reset 1", "boot pxe", "shutdown 1"). */
  chassisLog(): string[] {
    const f = join(this.dir, "chassis.log");
    return existsSync(f) ? readFileSync(f, "utf8").trim().split("\n").filter(Boolean) : [];
  }

  /** Stop answering, as a BMC that lost power or network. */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  resume(): void {
    this.child?.kill("SIGCONT");
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    }
    // ipmi_sim's chassis-control script may still be writing its log as the simulator dies: retry ENOTEMPTY.
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
}
