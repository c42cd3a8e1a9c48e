import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecutionContext } from "ava";
import { execa } from "execa";
import type { RvmcTiming } from "../src/rvmc/config.js";

const made: string[] = [];
// Each test file is one process: its directories go when it exits, whatever the outcome.
process.once("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory for one test, removed when the test process exits. */
export function tempDir(prefix = "metal-bsp-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** The host list most tests use: an AIO-DX pair plus workers and, on a standard system, storage. */
export const AIO_DX_HOSTS = `
system:
  type: aio-dx
  swVersion: "24.09"
  baseUrl: http://pxecontroller:8080
hosts:
  - hostname: controller-0
    mac: 52:54:00:AA:BB:01
    personality: controller
    bootDevice: /dev/sda
  - hostname: controller-1
    mac: 52-54-00-aa-bb-02
    personality: controller
    subfunctions: [lowlatency]
    bootDevice: /dev/disk/by-path/pci-0000:00:1f.2-ata-1.0
    hwSettle: 5
    console: ttyS1,115200n8
  - hostname: worker-0
    mac: 52:54:00:aa:bb:03
    personality: worker
    rootfsDevice: /dev/nvme0n1
    kernelArgs: "nopti nospectre_v2"
    console: null
    ip: 192.168.202.50
  - hostname: worker-1
    mac: 52:54:00:aa:bb:04
    personality: worker
    subfunctions: [lowlatency]
    bootDevice: /dev/sdb
    console: ""
`;

export const STANDARD_HOSTS = `
system:
  type: standard
  swVersion: "24.09"
  baseUrl: http://pxecontroller:8080/
  mgmtAddressing: static
  dhcp:
    rangeStart: 192.168.202.10
    rangeEnd: 192.168.202.200
hosts:
  - { hostname: controller-0, mac: "52:54:00:00:00:01", personality: controller, bootDevice: /dev/sda }
  - { hostname: controller-1, mac: "52:54:00:00:00:02", personality: controller, bootDevice: /dev/sda }
  - { hostname: storage-0, mac: "52:54:00:00:00:03", personality: storage, bootDevice: /dev/sda }
  - { hostname: worker-0, mac: "52:54:00:00:00:04", personality: worker, bootDevice: /dev/sda }
`;

export function writeFixture(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/**
 * Run a real peer tool. A missing tool fails the test loudly, naming the package to install; it never
 * turns into a skip.
 */
export async function runTool(t: ExecutionContext, cmd: string, args: string[], debianPackage: string) {
  const r = await execa(cmd, args, { reject: false, timeout: 30_000, all: true });
  if ((r as { code?: string }).code === "ENOENT")
    throw new Error(`${cmd} is not installed: install the Debian package ${debianPackage} (bash scripts/setup.sh peers)`);
  if (r.timedOut) throw new Error(`${cmd} ${args.join(" ")} timed out`);
  t.log(`${cmd} ${args.join(" ")} -> exit ${r.exitCode}`);
  return r;
}

/** Golden files live in the source tree (test/golden), next to this file's source. */
const GOLDEN = fileURLToPath(new URL("../../test/golden/", import.meta.url));

/** Compare with a golden file; UPDATE_GOLDEN=1 rewrites it instead (review the diff before committing). */
export function assertGolden(t: ExecutionContext, name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    writeFileSync(file, actual);
    t.log(`updated golden ${name}`);
  }
  let expected: string;
  try {
    expected = readFileSync(file, "utf8");
  } catch {
    t.fail(`golden file ${name} is missing; run with UPDATE_GOLDEN=1 to create it`);
    return;
  }
  t.is(actual, expected, `differs from golden ${name}`);
}

/** RVMC timings for tests: every poll, retry and connect delay `ms`; the bounds stay generous. */
export function fastTiming(ms: number, retries = 3): RvmcTiming {
  return { pollIntervalMs: ms, maxPollCount: 500, retries, retryDelayMs: ms, connectRetries: 2, connectDelayMs: ms, powerActionTimeoutMs: 10_000 };
}
