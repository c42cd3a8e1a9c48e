import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePxeboot, validateHostList } from "@metal/plugin-bsp";
import { type Benchmark, bestOf } from "./harness.js";

/**
 * `metal bsp pxeboot` for a 5,000-host system (validate the list, render, write BIOS + UEFI files and the
 * .cfg link per host) against the floor: writing the same number of regular files of the same sizes.
 */
const HOSTS = 5_000;

function hostList(n: number): unknown {
  const mac = (i: number) => `52:54:${[(i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
  const hosts = Array.from({ length: n }, (_, i) => {
    if (i < 2) return { hostname: `controller-${i}`, mac: mac(i + 1), personality: "controller", bootDevice: "/dev/sda" };
    if (i < 200) return { hostname: `storage-${i}`, mac: mac(i + 1), personality: "storage", bootDevice: "/dev/sda", hwSettle: 5 };
    return {
      hostname: `worker-${i}`,
      mac: mac(i + 1),
      personality: "worker",
      subfunctions: i % 4 === 0 ? ["lowlatency"] : [],
      bootDevice: "/dev/disk/by-path/pci-0000:00:1f.2-ata-1.0",
      kernelArgs: i % 10 === 0 ? "nopti nospectre_v2" : "",
    };
  });
  return { system: { type: "standard", swVersion: "24.09" }, hosts };
}

function fileSizes(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(statSync(join(e.parentPath, e.name)).size);
  }
  return out;
}

const bench: Benchmark = {
  name: "bsp",
  async run() {
    const doc = hostList(HOSTS);
    const scratch = mkdtempSync(join(tmpdir(), "metal-bench-bsp-"));
    let run = 0;
    try {
      let sizes: number[] = [];
      const generate = await bestOf(3, async () => {
        const out = join(scratch, `gen-${run++}`);
        await generatePxeboot(validateHostList(doc, "bench"), out);
        sizes = fileSizes(out);
      });
      const payloads = sizes.map((s) => "x".repeat(s));
      const baseline = await bestOf(3, () => {
        const out = join(scratch, `raw-${run++}`);
        mkdirSync(out);
        for (const [i, p] of payloads.entries()) writeFileSync(join(out, `f${i}`), p);
      });
      return [
        {
          name: `pxeboot tree, ${HOSTS} hosts (${sizes.length} files)`,
          figure: generate,
          unit: "ms",
          baselineName: "writing as many same-size files",
          baseline,
          ratio: baseline / generate,
          target: "< 2000 ms for 5,000 hosts",
          met: generate < 2000,
          notes: `${((generate / HOSTS) * 1000).toFixed(0)} us/host; also validates the list, removes stale files and makes ${HOSTS} .cfg links`,
        },
      ];
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};
export default bench;
