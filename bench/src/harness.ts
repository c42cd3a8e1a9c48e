/**
 * Benchmarks print their figure next to a baseline measured in the same run, as a ratio: these machines
 * are noisy, so an absolute time from one run says little; a ratio against the same-run baseline does.
 */
export interface BenchResult {
  /** What was measured, e.g. "inbox decode+dispatch, 500 hosts". */
  name: string;
  figure: number;
  unit: string;
  baselineName: string;
  baseline: number;
  /** figure / baseline (for rates) or baseline / figure (for times) — whichever reads "higher is better". */
  ratio: number;
  /** A target from the issue, stated as text, and whether it was met (printed, never asserted). */
  target?: string;
  met?: boolean;
  notes?: string;
}

export interface Benchmark {
  name: string;
  run(): Promise<BenchResult[]>;
}

/** Best-of-N wall time of `fn` in ms (best, because noise only ever adds time). */
export async function bestOf(n: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

export function formatResult(r: BenchResult): string {
  const f = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
  const target = r.target ? `  target ${r.target}: ${r.met ? "met" : "NOT met"}` : "";
  return `${r.name}: ${f(r.figure)} ${r.unit} vs ${r.baselineName} ${f(r.baseline)} ${r.unit} -> ratio ${r.ratio.toFixed(2)}x${target}${r.notes ? `  (${r.notes})` : ""}`;
}
