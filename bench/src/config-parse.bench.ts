import { parseConfig } from "@metal/core";
import { type Benchmark, bestOf } from "./harness.js";

/** Config validation cost: schema-validated parse vs a bare JSON.parse of the same document. */
const bench: Benchmark = {
  name: "config",
  async run() {
    const doc = JSON.stringify({ root: "/tmp/x", heartbeat: { periodMs: 200 }, ports: { agentMgmt: 3101 }, timeouts: { workerBoot: 600 } });
    const n = 5_000;
    const validated = await bestOf(5, () => {
      for (let i = 0; i < n; i++) parseConfig(JSON.parse(doc));
    });
    const raw = await bestOf(5, () => {
      for (let i = 0; i < n; i++) JSON.parse(doc);
    });
    const rate = (ms: number) => (n / ms) * 1000;
    return [
      {
        name: "config parse+validate",
        figure: rate(validated),
        unit: "docs/s",
        baselineName: "JSON.parse only",
        baseline: rate(raw),
        ratio: rate(validated) / rate(raw),
        notes: "validation runs once per daemon start; shown for scale",
      },
    ];
  },
};
export default bench;
