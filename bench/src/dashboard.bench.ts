/// <reference lib="dom" />
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentApi } from "@metal/core/api/agent-api";
import { silentLogger } from "@metal/core/logging/logger";
import { chromium } from "playwright-core";
import { agentWith } from "./api.bench.js";
import type { Benchmark, BenchResult } from "./harness.js";

/**
 * Dashboard update latency with 500 hosts: a host's task changes in the agent → the scheduler pass's diff
 * publishes it → SSE → the dashboard (Debian chromium, headless) repaints that row; timed from the change to
 * the first animation frame after the row's text changed (wall clock on both sides, one machine). Baseline,
 * same run and page: a bare event published on the bus → an EventSource listener writes it to one element →
 * next animation frame (the transport's floor, without the table).
 */
const HOSTS = 500;
const SAMPLES = 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const bench: Benchmark = {
  name: "dashboard",
  async run(): Promise<BenchResult[]> {
    const agent = agentWith(HOSTS);
    const api = new AgentApi({ agent, log: silentLogger(), address: "127.0.0.1", port: 0 });
    const { port } = await api.start();
    const profile = mkdtempSync(join(tmpdir(), "metal-bench-chromium-"));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const rows: number[] = [];
    const floor: number[] = [];
    try {
      // Settle the FSMs' first passes (the add handler) so only the bench's changes produce events.
      for (let i = 0; i < 20; i++) agent.scheduler.pass();
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/ui/`, { timeout: 120_000 });
      await page.waitForFunction((n) => document.querySelectorAll("#hosts tbody tr").length === n, HOSTS, { timeout: 120_000 });
      await page.evaluate(() => {
        const w = window as unknown as { seen: Record<string, number>; floorSeen?: number };
        w.seen = {};
        const es = new EventSource("/v1/events");
        const box = document.createElement("div");
        document.body.appendChild(box);
        es.addEventListener("bench", (e) => {
          box.textContent = (e as MessageEvent).data;
          requestAnimationFrame(() => {
            w.floorSeen = Date.now();
          });
        });
        new MutationObserver(() => {
          for (const td of Array.from(document.querySelectorAll("#hosts tbody tr td:nth-child(6)"))) {
            const m = /^bench-(\d+)$/.exec(td.textContent ?? "");
            if (m && w.seen[m[1] as string] === undefined) {
              const k = m[1] as string;
              w.seen[k] = -1;
              requestAnimationFrame(() => {
                w.seen[k] = Date.now();
              });
            }
          }
        }).observe(document.querySelector("#hosts tbody") as Node, { subtree: true, childList: true, characterData: true });
      });
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < SAMPLES; i++) {
        const c = agent.ctx(`worker-${(i * 37) % HOSTS}`);
        if (!c) throw new Error("no host");
        const t0 = Date.now();
        c.rec.task = `bench-${i}`;
        agent.scheduler.pass();
        await page.waitForFunction((k) => ((window as unknown as { seen: Record<string, number> }).seen[k] ?? -1) > 0, String(i), {
          timeout: 30_000,
          polling: 10,
        });
        rows.push((await page.evaluate((k) => (window as unknown as { seen: Record<string, number> }).seen[k] as number, String(i))) - t0);

        await page.evaluate(() => {
          (window as unknown as { floorSeen?: number }).floorSeen = undefined;
        });
        const f0 = Date.now();
        api.bus.publish("bench", { i });
        await page.waitForFunction(() => (window as unknown as { floorSeen?: number }).floorSeen !== undefined, undefined, { timeout: 30_000, polling: 10 });
        floor.push((await page.evaluate(() => (window as unknown as { floorSeen: number }).floorSeen)) - f0);
      }
    } finally {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
      await api.stop();
    }
    const m = median(rows);
    const b = median(floor);
    return [
      {
        name: `dashboard: state change -> row repainted, ${HOSTS} hosts (median of ${SAMPLES})`,
        figure: m,
        unit: "ms",
        baselineName: "bare event -> one element repainted",
        baseline: b,
        ratio: b / m,
        target: "< 2,000 ms",
        met: m < 2000,
        notes: `max ${Math.max(...rows).toFixed(0)} ms`,
      },
    ];
  },
};
export default bench;
