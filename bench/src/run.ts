import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Benchmark, formatResult } from "./harness.js";

/** `npm run bench [-- NAME...]`: run every *.bench.js here (or those named) and print ratios. */
const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const json = process.argv.includes("--json");
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.js"))
  .sort();
const all = [];
for (const f of files) {
  const bench = (await import(pathToFileURL(`${here}/${f}`).href)).default as Benchmark;
  if (wanted.length && !wanted.includes(bench.name)) continue;
  process.stderr.write(`bench ${bench.name} ...\n`);
  const results = await bench.run();
  for (const r of results) {
    all.push({ bench: bench.name, ...r });
    if (!json) process.stdout.write(`${formatResult(r)}\n`);
  }
}
if (json) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
