/**
 * Durable before acknowledged (issue 11), against real `metal agent` processes, real files and real signals:
 * a lock answered 202 before a restart is carried out after it, and a kill -9 soak under concurrent clients
 * loses nothing that was acknowledged.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { AgentProcess } from "./support/agent-process.js";

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, limitMs = 30_000): Promise<T> {
  const end = Date.now() + limitMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn().catch(() => undefined);
    if (last !== undefined) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  test.serial(`a lock answered 202 queued before a ${signal} restart is carried out after it`, async (t) => {
    // hostAddDelay 3 s: the host is still in its add handler when the lock comes, so the lock is queued.
    const a = await AgentProcess.create((c) => {
      c.timeouts = { cmdResponse: 1, hostAddDelay: 3 };
    });
    t.teardown(() => a.dispose());
    await a.start();
    const add = await a.request("POST", "/v1/hosts", { hostname: "worker-0", personality: "worker", mgmtIp: "127.0.9.10", administrative: "unlocked" });
    t.is(add.status, 201, JSON.stringify(add.body));
    const lock = await a.request("PATCH", "/v1/hosts/worker-0", { action: "lock" });
    t.is(lock.status, 202, JSON.stringify(lock.body));
    t.true(lock.body.queued as boolean, "queued behind add");
    const stopped = await a.stop(signal);
    if (signal === "SIGTERM") t.is(stopped.code, 0);
    await a.start();
    const [h] = await a.hosts();
    t.truthy(h);
    t.true(h?.action === "lock" || h?.queued.includes("lock") || h?.administrative === "locked", `lock survived the restart: ${JSON.stringify(h)}`);
    // Carried out: add finishes (3 s), then the lock runs; the host is offline, so its stop-services times out (1 s).
    const locked = await waitFor("the lock to be carried out", async () => {
      const [x] = await a.hosts();
      return x?.administrative === "locked" && x.action === "none" ? x : undefined;
    });
    t.is(locked.administrative, "locked");
    t.is(a.output.match(/admin actions resumed after add/g)?.length, 1);
  });
}

test.serial("kill -9 soak: acknowledged adds, actions and deletes survive kill -9 at random moments; no file is corrupt", async (t) => {
  const a = await AgentProcess.create((c) => {
    c.logging = { level: "warn" };
  });
  t.teardown(() => a.dispose());
  const rounds = 6;
  const clients = 5;
  /** Every acknowledged mutation: host -> what must be true of it after any restart. */
  const added = new Set<string>();
  const deleted = new Set<string>();
  const acted = new Map<string, string>();
  let acks = 0;
  let seq = 0;
  for (let round = 0; round < rounds; round++) {
    await a.start();
    let running = true;
    const client = async (id: number) => {
      while (running) {
        const n = seq++;
        const name = `w${round}-${id}-${n}`;
        const unlocked = n % 2 === 0;
        try {
          const r = await a.request(
            "POST",
            "/v1/hosts",
            // Every host needs its own mgmt address.
            {
              hostname: name,
              personality: "worker",
              mgmtIp: `fd00::${round.toString(16)}:${id.toString(16)}:${(n & 0xffff).toString(16)}`,
              administrative: unlocked ? "unlocked" : "locked",
            },
            { timeoutMs: 5000 },
          );
          if (r.status !== 201) continue;
          added.add(name);
          acks++;
          // Unlocked hosts get a lock, locked ones an unlock or a delete; all queued behind add.
          const action = unlocked ? "lock" : n % 3 === 0 ? "delete" : "unlock";
          const x =
            action === "delete"
              ? await a.request("DELETE", `/v1/hosts/${name}`, undefined, { timeoutMs: 5000 })
              : await a.request("PATCH", `/v1/hosts/${name}`, { action }, { timeoutMs: 5000 });
          if (x.status !== 202) continue;
          acks++;
          if (action === "delete") deleted.add(name);
          else acted.set(name, action);
        } catch {
          return; // the agent died under us
        }
      }
    };
    const work = Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
    await new Promise((r) => setTimeout(r, 400 + Math.floor(Math.random() * 1200)));
    await a.stop("SIGKILL");
    running = false;
    await work;
  }
  await a.start();
  const hosts = new Map((await a.hosts()).map((h) => [h.hostname, h]));
  const lost: string[] = [];
  for (const name of added) {
    const h = hosts.get(name);
    if (deleted.has(name)) {
      if (h && h.action !== "delete" && !h.queued.includes("delete")) lost.push(`${name}: delete`);
      continue;
    }
    if (!h) {
      lost.push(`${name}: add`);
      continue;
    }
    const want = acted.get(name);
    if (want && h.action !== want && !h.queued.includes(want)) lost.push(`${name}: ${want} (${h.action} [${h.queued}])`);
  }
  t.true(acks > 50, `enough acknowledged work (${acks})`);
  t.deepEqual(lost, [], `acknowledged-then-lost over ${rounds} kill -9 rounds (${acks} acknowledgements)`);
  const quarantine = join(a.stateDir, "quarantine");
  t.false(existsSync(quarantine) && readdirSync(quarantine).length > 0, "no stored file was corrupt");
  t.notRegex(a.output, /quarantined|Unhandled|uncaught/i);
});

test.serial("SIGHUP reloads the config (log level, timeouts) and loses nothing; the agent keeps running", async (t) => {
  const a = await AgentProcess.create();
  t.teardown(() => a.dispose());
  await a.start();
  t.is((await a.request("POST", "/v1/hosts", { hostname: "worker-0", personality: "worker", mgmtIp: "127.0.9.11", administrative: "unlocked" })).status, 201);
  t.is((await a.request("PATCH", "/v1/hosts/worker-0", { action: "lock" })).status, 202);
  t.is((await a.request("POST", "/v1/hosts", { hostname: "worker-1", personality: "worker", mgmtIp: "127.0.9.12" })).status, 201);
  a.config.logging = { level: "debug" };
  a.config.timeouts = { cmdResponse: 2, hostAddDelay: 20 };
  a.writeConfig();
  a.proc?.kill("SIGHUP");
  await waitFor("the reload line", async () => (/configuration reloaded/.test(a.output) ? true : undefined), 30_000);
  t.is(a.proc?.exitCode, null, "still running");
  const hosts = await a.hosts();
  t.deepEqual(
    hosts.map((h) => h.hostname),
    ["worker-0", "worker-1"],
  );
  t.true(hosts[0]?.queued.includes("lock") || hosts[0]?.action === "lock");
  t.regex(a.output, /"applied":\["logging.level","timeouts"\]/);
  t.false(readdirSync(join(a.stateDir, "hosts")).some((f) => f.endsWith(".tmp")));
  t.is((await a.request("POST", "/v1/hosts", { hostname: "worker-2", personality: "worker", mgmtIp: "127.0.9.13" })).status, 201, "mutations still work");
  const stopped = await a.stop("SIGTERM");
  t.is(stopped.code, 0);
});
