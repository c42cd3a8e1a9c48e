/// <reference lib="dom" />
/**
 * The operator's screen against a running lab (`metal lab`, 4 hosts): the OpenAPI document validates and every
 * route in it answers; `metal events` follows the stream; the dashboard in Debian's chromium (driven by
 * playwright-core) lists every host, a lock from the UI changes the row within 2 s, a killed host turns the heat
 * map red within 2 s; screenshots go to test/artifacts/ (git-ignored).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";
import test from "ava";
import { execa, type ResultPromise } from "execa";
import { chromium } from "playwright-core";
import { waitFor } from "./wait.js";

const main = fileURLToPath(new URL("../../packages/core/dist/src/cli/main.js", import.meta.url));
const ARTIFACTS = join(fileURLToPath(new URL(".", import.meta.url)), "..", "artifacts");
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

interface Lab {
  proc: ResultPromise;
  url: string;
  token: string;
}
let lab: Lab | undefined;

test.before(async () => {
  // --duration is in lab seconds (÷10 on the wall): long enough for a loaded machine; the after hook ends it.
  const proc = execa(process.execPath, [main, "lab", "--hosts", "3", "--speed", "10", "--duration", "6000"], { reject: false, env: { NO_COLOR: "" } });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  await waitFor("the lab's environment line", () => /^export METAL_URL=\S+ METAL_TOKEN_FILE=\S+$/m.test(out), 90_000, 100);
  const m = /^export METAL_URL=(\S+) METAL_TOKEN_FILE=(\S+)$/m.exec(out) as RegExpExecArray;
  lab = { proc, url: m[1] as string, token: readFileSync(m[2] as string, "utf8").trim() };
  const url = lab.url;
  await waitFor(
    "every lab host unlocked-enabled-available",
    async () => {
      const body = (await (await fetch(`${url}/v1/hosts`)).json()) as { hosts: Array<{ availability: string; operational: string }> };
      return body.hosts.length === 4 && body.hosts.every((h) => h.operational === "enabled" && h.availability === "available");
    },
    150_000,
    500,
  );
});

test.after.always(async () => {
  const p = lab?.proc;
  if (!p || p.exitCode !== null) return;
  p.kill("SIGTERM");
  const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
  await p.catch(() => undefined);
  clearTimeout(timer);
});

test.serial("the OpenAPI document validates (swagger-parser) and every route in it answers as documented", async (t) => {
  const { url } = lab as Lab;
  const doc = (await (await fetch(`${url}/v1/openapi.json`)).json()) as {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  };
  t.regex(doc.openapi, /^3\./);
  await t.notThrowsAsync(SwaggerParser.validate(structuredClone(doc) as never));
  const paths = Object.keys(doc.paths);
  for (const p of [
    "/v1/hosts",
    "/v1/hosts/{name}",
    "/v1/alarms",
    "/v1/events",
    "/v1/cluster",
    "/metrics",
    "/v1/hosts/{name}/history",
    "/v1/hosts/{name}/sensors",
  ])
    t.true(paths.includes(p), `${p} is documented`);
  let calls = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const target = `${url}${path.replace("{name}", "worker-1")}`;
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 20_000);
      // Mutations without the token: the documented 401, never reaching the host.
      const res = await fetch(target, {
        method: method.toUpperCase(),
        signal: ac.signal,
        ...(method === "get" ? {} : { headers: { "content-type": "application/json" }, body: "{}" }),
      });
      clearTimeout(timer);
      const documented = Object.keys(op.responses);
      t.true(documented.includes(String(res.status)), `${method.toUpperCase()} ${path} answered ${res.status}, documented ${documented.join(",")}`);
      if (method !== "get") t.is(res.status, 401, `${method} ${path} needs the token`);
      await res.body?.cancel();
      calls++;
    }
  }
  t.true(calls >= 10);
  const docs = await fetch(`${url}/v1/docs/`);
  t.is(docs.status, 200);
  t.regex(await docs.text(), /swagger/i);
});

test.serial("metal events --format json prints the stream, one JSON object per line", async (t) => {
  const { url } = lab as Lab;
  const r = await execa(process.execPath, [main, "events", "--format", "json", "--snapshot", "--count", "5"], {
    reject: false,
    timeout: 60_000,
    env: { METAL_URL: url, METAL_CONFIG: "" },
  });
  t.is(r.exitCode, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { id: string; type: string; data: { hostname?: string } });
  t.is(events.length, 5);
  t.deepEqual(
    events
      .filter((e) => e.type === "host")
      .map((e) => e.data.hostname)
      .sort(),
    ["controller-0", "worker-0", "worker-1", "worker-2"],
  );
  t.regex(events[0]?.id ?? "", /^[0-9a-z]+-\d+$/);
});

test.serial(
  "the dashboard in chromium: every host listed, a UI lock changes the row within 2 s, a killed host turns the heat map red within 2 s",
  async (t) => {
    const { url, token, proc } = lab as Lab;
    mkdirSync(ARTIFACTS, { recursive: true });
    const profile = mkdtempSync(join(tmpdir(), "metal-chromium-"));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    t.teardown(async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${url}/ui/`, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelectorAll("#hosts tbody tr").length === 4, undefined, { timeout: 60_000 });
    const rows = await page.$$eval("#hosts tbody tr", (trs) => trs.map((tr) => [tr.getAttribute("data-host"), tr.getAttribute("data-state")]));
    t.deepEqual(rows, [
      ["controller-0", "unlocked-enabled-available"],
      ["worker-0", "unlocked-enabled-available"],
      ["worker-1", "unlocked-enabled-available"],
      ["worker-2", "unlocked-enabled-available"],
    ]);
    await page.waitForSelector("#heatmap .cell.ok", { timeout: 30_000 });
    t.false(/loading/.test((await page.textContent("body")) ?? ""), "the placeholder is gone");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });

    // Lock worker-0 from the UI: the token is asked once, then the row changes (timed inside the page).
    await page.click('tr[data-host="worker-0"] button[data-action="lock"]');
    await page.waitForSelector("#token-dialog", { timeout: 10_000 });
    await page.fill("#token-input", token);
    await page.evaluate(() => {
      const w = window as unknown as { lockAt?: number; lockSeen?: number };
      document.querySelector("#token-ok")?.addEventListener("click", () => {
        w.lockAt = performance.now();
      });
      const obs = new MutationObserver(() => {
        const state = document.querySelector('tr[data-host="worker-0"]')?.getAttribute("data-state") ?? "";
        if (state.startsWith("locked") && w.lockSeen === undefined) w.lockSeen = performance.now();
      });
      obs.observe(document.body, { subtree: true, attributes: true, childList: true });
    });
    await page.click("#token-ok");
    await page.waitForFunction(() => (window as unknown as { lockSeen?: number }).lockSeen !== undefined, undefined, { timeout: 30_000 });
    const lockMs = await page.evaluate(() => {
      const w = window as unknown as { lockAt: number; lockSeen: number };
      return w.lockSeen - w.lockAt;
    });
    t.log(`lock click -> row repainted: ${lockMs.toFixed(0)} ms`);
    t.true(lockMs <= 2000, `the row changed ${lockMs.toFixed(0)} ms after the lock`);
    t.regex((await page.textContent("#msg")) ?? "", /lock worker-0: accepted/);
    t.is(await page.evaluate(() => sessionStorage.getItem("metal.token") !== null), true, "the token is kept for the tab");
    // A second action does not ask again.
    await page.click('tr[data-host="worker-0"] button[data-action="unlock"]');
    await page.waitForFunction(() => /unlock worker-0/.test(document.querySelector("#msg")?.textContent ?? ""), undefined, { timeout: 20_000 });
    t.is(await page.$("#token-dialog"), null);

    // Kill worker-2's machine (its init, `--lab-machine <root>/worker-2/lab/host-args.json`; the lab then takes its
    // whole process group): the newest heat-map period turns red (timed inside the page).
    const child = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(proc.pid)], { encoding: "utf8" })
      .split("\n")
      .find((l) => l.includes("/worker-2/lab/"));
    t.truthy(child, "worker-2's host process");
    const pid = Number(child?.trim().split(/\s+/)[0]);
    await page.evaluate(() => {
      const w = window as unknown as { killAt?: number; redSeen?: number };
      w.killAt = performance.now();
      const newestRed = () => {
        const cells = document.querySelectorAll('#heatmap .cell[data-row="0-mgmt"]');
        return cells[cells.length - 1]?.classList.contains("bad") ?? false;
      };
      const obs = new MutationObserver(() => {
        if (w.redSeen === undefined && newestRed()) w.redSeen = performance.now();
      });
      obs.observe(document.body, { subtree: true, attributes: true, childList: true, characterData: true });
    });
    process.kill(pid, "SIGKILL");
    await page.waitForFunction(() => (window as unknown as { redSeen?: number }).redSeen !== undefined, undefined, { timeout: 30_000 });
    const redMs = await page.evaluate(() => {
      const w = window as unknown as { killAt: number; redSeen: number };
      return w.redSeen - w.killAt;
    });
    t.log(`kill -> heat map red: ${redMs.toFixed(0)} ms`);
    t.true(redMs <= 2000, `the heat map turned red ${redMs.toFixed(0)} ms after the kill`);
    // Its tile goes red too once the hbsAgent reports the loss.
    await page.waitForSelector('.tile.bad[data-tile="worker-2"]', { timeout: 60_000 });
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-killed-host.png"), fullPage: true });

    // The host page: state, history with the lock in it, the sensors section.
    await page.click('a[href="#/host/worker-0"]');
    await page.waitForSelector("#host-page", { timeout: 10_000 });
    await page.waitForFunction(() => /locked|unlock/i.test(document.querySelector("#history")?.textContent ?? ""), undefined, { timeout: 20_000 });
    t.truthy(await page.$("#sensors"));
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-host.png"), fullPage: true });
    t.deepEqual(pageErrors, [], "no script error in the page");
  },
);
