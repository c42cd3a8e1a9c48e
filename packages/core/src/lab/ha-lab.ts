import { readFileSync } from "node:fs";
import type { AgentHaView } from "./agent-process.js";
import { HaPair } from "./ha-pair.js";
import { labEnvLine } from "./lab-api-token.js";
import { HA_ACTIONS, type LabStep, MAINTENANCE_ACTIONS } from "./scenario.js";

/**
 * `metal lab --controllers 2 --store etcd` (issue 12): the controller pair on etcd, live. A 3-member etcd cluster on
 * loopback (own data dirs and free ports, removed at the end), one real `metal agent` process per controller
 * (lab/ha-pair.ts), the inventory (both controllers and the workers, in service) seeded into etcd, and at every host's
 * mgmt address a recorder of the maintenance commands it receives. `--do` drives the pair: kill-agent / pause-agent /
 * resume-agent / revive-agent C (controller-N, or `active` / `standby` as they are when the step runs), kill-etcd /
 * revive-etcd N, and the maintenance actions (lock, unlock, swact, ...; `active` / `standby` name a controller too)
 * through the active agent's REST API. Lab time is real time here (the agents' lease TTL is in real seconds).
 * The report adds `active` (the controller whose agent leads at the end) and `leadership` (every election,
 * resignation and loss, in lab seconds, with its reason), as the agents' `GET /v1/ha` histories show them and as
 * the lab saw them (an agent killed while active cannot say so itself).
 */
export interface HaLabOptions {
  workers: number;
  durationS: number;
  steps: LabStep[];
  json: boolean;
  settle?: boolean;
  leaseTtlS?: number;
  logLevel?: "error" | "warn" | "info" | "debug";
  keep?: boolean;
  out: NodeJS.WritableStream;
  /** Where progress lines go (default stderr). */
  err?: NodeJS.WritableStream;
}

/** One election, resignation or loss, in lab seconds. */
export interface LeadershipEntry {
  atS: number;
  controller: string;
  kind: "elected" | "resigned" | "lost";
  reason: string;
  epoch?: number;
}

export interface HaLabStepEntry {
  atS: number;
  step: string;
  outcome: "done" | "refused";
  reason?: string;
  /** The controller an `active` / `standby` target meant when the step ran. */
  controller?: string;
  expectRefused: boolean;
}

export interface HaLabHost {
  hostname: string;
  administrative: string;
  operational: string;
  availability: string;
  action: string;
  task: string;
  /** Maintenance commands the host received during the run (mtcAlive requests not counted). */
  commands: number;
}

export interface HaLabResult {
  ok: boolean;
  store: "etcd";
  /** The controller whose agent acts at the end (null: none, or more than one). */
  active: string | null;
  leadership: LeadershipEntry[];
  hosts: HaLabHost[];
  alarms: unknown[];
  steps: HaLabStepEntry[];
  refused: HaLabStepEntry[];
  /** Lab second at which an agent first led with every host in service. */
  readyAtS?: number;
  elapsedS: number;
  etcd: Array<{ name: string; clientUrl: string; running: boolean }>;
}

const CONTROLLERS = ["controller-0", "controller-1"];

/** Run the pair lab until `durationS` (or settled with `settle`); resolves with the report (also printed). */
export async function runHaLab(o: HaLabOptions): Promise<HaLabResult> {
  const err = o.err ?? process.stderr;
  const pair = await HaPair.start({ workers: o.workers, leaseTtlS: o.leaseTtlS ?? 3, logLevel: o.logLevel ?? "warn", keep: o.keep ?? false });
  const started = Date.now();
  const labS = (at: number) => Math.round((at - started) / 100) / 10;
  const token = readFileSync(pair.tokenFile, "utf8").trim();
  const leadership: LeadershipEntry[] = [];
  const seen = new Set<string>();
  const steps: HaLabStepEntry[] = [];
  const lastHosts = new Map<string, HaLabHost>();
  let lastAlarms: unknown[] = [];
  let readyAt: number | undefined;
  let pending = o.steps.length;
  const timers: NodeJS.Timeout[] = [];
  let activeNow: number | undefined;
  const say = (line: string) => {
    if (!o.json) o.out.write(`lab ${labS(Date.now()).toFixed(1)} s: ${line}\n`);
  };
  err.write(`${labEnvLine(pair.agents[0]?.apiUrl as string, pair.tokenFile)}\n`);

  const record = (e: LeadershipEntry, key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    leadership.push(e);
    leadership.sort((a, b) => a.atS - b.atS);
    say(`${e.controller} ${e.kind}${e.epoch !== undefined ? ` (epoch ${e.epoch})` : ""}: ${e.reason}`);
  };
  const collect = (i: number, v: AgentHaView | undefined) => {
    if (!v) return;
    for (const h of v.history) {
      if (h.kind !== "elected" && h.kind !== "resigned" && h.kind !== "lost") continue;
      record(
        { atS: labS(h.at), controller: h.hostname, kind: h.kind, reason: h.reason, ...(h.epoch !== undefined ? { epoch: h.epoch } : {}) },
        `${i}|${h.at}|${h.kind}|${h.epoch ?? ""}`,
      );
    }
  };

  /** One look at the pair: both agents' leadership histories, the active's hosts and alarms. */
  const observe = async () => {
    const views = await pair.views();
    views.forEach((v, i) => {
      collect(i, v);
    });
    const acting = views.map((v, i) => (v?.acting ? i : -1)).filter((i) => i >= 0);
    activeNow = acting.length === 1 ? acting[0] : undefined;
    if (activeNow === undefined) return;
    const a = pair.agents[activeNow];
    const hosts = await a?.hosts();
    if (hosts) {
      for (const h of hosts) {
        lastHosts.set(h.hostname, {
          hostname: h.hostname,
          administrative: String(h.administrative),
          operational: String(h.operational),
          availability: String(h.availability),
          action: String(h.action),
          task: String(h.task ?? ""),
          commands: pair.actions().filter((c) => c.host === h.hostname).length,
        });
      }
      if (readyAt === undefined && hosts.length === pair.hostnames.length && hosts.every(inService)) {
        readyAt = Date.now();
        say(`${CONTROLLERS[activeNow]} leads with every host in service`);
        for (const s of o.steps) if (s.afterReady) timers.push(setTimeout(() => void apply(s), s.atS * 1000));
      }
    }
    try {
      const res = await fetch(`${a?.apiUrl}/v1/alarms`, { signal: AbortSignal.timeout(1500) });
      lastAlarms = ((await res.json()) as { alarms?: unknown[] }).alarms ?? lastAlarms;
    } catch {
      // the agent is busy or gone: keep the last list
    }
  };

  /** The controller an `active`/`standby` step resolved to (reported with the step). */
  let resolved: string | undefined;
  const apply = async (step: LabStep) => {
    resolved = undefined;
    let verdict: { ok: true } | { ok: false; reason: string };
    try {
      verdict = await act(step);
    } catch (e) {
      verdict = { ok: false, reason: (e as Error).message };
    }
    pending--;
    const entry: HaLabStepEntry = {
      atS: labS(Date.now()),
      step: step.text,
      outcome: verdict.ok ? "done" : "refused",
      ...(verdict.ok ? {} : { reason: verdict.reason }),
      ...(resolved && resolved !== step.host ? { controller: resolved } : {}),
      expectRefused: step.expectRefused,
    };
    steps.push(entry);
    say(`--do ${step.text}: ${verdict.ok ? "done" : `refused: ${verdict.reason}`}`);
  };

  const act = async (step: LabStep): Promise<{ ok: true } | { ok: false; reason: string }> => {
    const refuse = (reason: string) => ({ ok: false as const, reason });
    if ((HA_ACTIONS as readonly string[]).includes(step.action)) {
      if (step.action === "kill-etcd" || step.action === "revive-etcd") {
        const n = Number(step.host);
        if (!/^\d+$/.test(step.host) || n >= pair.etcd.members.length) return refuse(`no etcd member ${step.host} (0..${pair.etcd.members.length - 1})`);
        if (step.action === "kill-etcd") {
          if (!pair.etcd.running(n)) return refuse(`etcd member ${n} is not running`);
          await pair.etcd.kill(n);
        } else {
          if (pair.etcd.running(n)) return refuse(`etcd member ${n} is running`);
          pair.etcd.revive(n);
        }
        return { ok: true };
      }
      // "active" / "standby": the controller that acts (or not) when the step runs.
      if (step.host === "active" || step.host === "standby") await observe();
      const i =
        step.host === "active" ? (activeNow ?? -1) : step.host === "standby" ? (activeNow === undefined ? -1 : 1 - activeNow) : CONTROLLERS.indexOf(step.host);
      const a = pair.agents[i];
      if (!a)
        return refuse(step.host === "active" || step.host === "standby" ? `no agent is active, so no ${step.host}` : `no controller named '${step.host}'`);
      resolved = CONTROLLERS[i];
      switch (step.action) {
        case "kill-agent": {
          if (!a.running) return refuse(`${CONTROLLERS[i]}'s agent is not running`);
          const wasActive = activeNow === i;
          await a.kill();
          if (wasActive)
            record(
              { atS: labS(Date.now()), controller: CONTROLLERS[i] as string, kind: "lost", reason: "agent killed (SIGKILL) by the lab" },
              `kill|${i}|${Date.now()}`,
            );
          return { ok: true };
        }
        case "pause-agent":
          if (!a.running || a.paused) return refuse(`${CONTROLLERS[i]}'s agent is ${a.running ? "already paused" : "not running"}`);
          a.pause();
          return { ok: true };
        case "resume-agent":
          if (!a.paused) return refuse(`${CONTROLLERS[i]}'s agent is not paused`);
          a.resume();
          return { ok: true };
        default:
          if (a.running) return refuse(`${CONTROLLERS[i]}'s agent is running`);
          a.revive();
          return { ok: true };
      }
    }
    if (!(MAINTENANCE_ACTIONS as readonly string[]).includes(step.action))
      return refuse(`${step.action} acts on a simulated machine, which the etcd lab does not run (its hosts are command recorders)`);
    if (activeNow === undefined || step.host === "active" || step.host === "standby") await observe();
    const a = activeNow === undefined ? undefined : pair.agents[activeNow];
    if (!a || activeNow === undefined) return refuse("no agent is active");
    const host = step.host === "active" ? CONTROLLERS[activeNow] : step.host === "standby" ? CONTROLLERS[1 - activeNow] : step.host;
    resolved = host;
    const res = await fetch(`${a.apiUrl}/v1/hosts/${encodeURIComponent(host as string)}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ action: step.action }),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.ok) return { ok: true };
    const body = (await res.json().catch(() => ({}))) as { reason?: string; error?: string };
    return refuse(body.reason ?? body.error ?? `HTTP ${res.status}`);
  };

  let settledSince: number | undefined;
  let etcd: HaLabResult["etcd"] = [];
  try {
    // The pair elects its first leader; the steps' clock starts with the lab.
    await pair.waitFor(
      "an active agent",
      async () => {
        await observe();
        return activeNow !== undefined;
      },
      120_000,
    );
    for (const s of o.steps) if (!s.afterReady) timers.push(setTimeout(() => void apply(s), Math.max(0, started + s.atS * 1000 - Date.now())));
    const deadline = o.durationS > 0 ? started + o.durationS * 1000 : Number.POSITIVE_INFINITY;
    let interrupted = false;
    const stop = () => {
      interrupted = true;
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      while (!interrupted && Date.now() < deadline) {
        await observe();
        if (o.settle && pending === 0 && readyAt !== undefined) {
          const quiet = activeNow !== undefined && [...lastHosts.values()].every((h) => h.action === "none");
          if (!quiet) settledSince = undefined;
          else if (settledSince === undefined) settledSince = Date.now();
          else if (Date.now() - settledSince >= 3000) break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    await observe();
    etcd = pair.etcd.members.map((m, i) => ({ name: m.name, clientUrl: m.clientUrl, running: pair.etcd.running(i) }));
  } finally {
    for (const t of timers) clearTimeout(t);
    await pair.stop();
  }
  const surprising = steps.filter((e) => (e.outcome === "refused") !== e.expectRefused);
  const hosts = pair.hostnames.map(
    (h) => lastHosts.get(h) ?? { hostname: h, administrative: "?", operational: "?", availability: "?", action: "?", task: "", commands: 0 },
  );
  const result: HaLabResult = {
    ok: activeNow !== undefined && surprising.length === 0 && hosts.every((h) => h.action === "none"),
    store: "etcd",
    active: activeNow === undefined ? null : (CONTROLLERS[activeNow] as string),
    leadership,
    hosts,
    alarms: lastAlarms,
    steps,
    refused: steps.filter((e) => e.outcome === "refused"),
    ...(readyAt !== undefined ? { readyAtS: labS(readyAt) } : {}),
    elapsedS: labS(Date.now()),
    etcd,
  };
  if (o.json) o.out.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    o.out.write(`metal lab (etcd): active ${result.active ?? "none"}\n`);
    for (const h of hosts) o.out.write(`  ${h.hostname}: ${h.administrative}-${h.operational}-${h.availability} ${h.task}\n`);
  }
  return result;
}

const inService = (h: Record<string, unknown>) =>
  h.administrative === "unlocked" && h.operational === "enabled" && h.availability === "available" && h.action === "none";
