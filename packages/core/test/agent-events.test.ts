import { spawnSync } from "node:child_process";
import test from "ava";
import { AgentApi } from "../src/api/agent-api.js";
import { ClusterSource } from "../src/api/cluster-source.js";
import { EventBus } from "../src/api/event-bus.js";
import { secretFromString } from "../src/di/secret.js";
import { silentLogger } from "../src/logging/logger.js";
import { emptyVault } from "../src/wire/cluster-vault.js";
import { Rig } from "./support/agent-rig.js";

const TOKEN = "events-test-token";

test("event bus: ids resume within the ring and boot; anything else cannot be resumed", (t) => {
  let now = 1_000_000;
  const bus = new EventBus({ capacity: 3, now: () => now++ });
  t.is(bus.since(bus.lastId)?.length, 0);
  const a = bus.publish("host", { n: 1 });
  const b = bus.publish("host", { n: 2 });
  t.deepEqual(
    bus.since(a.id)?.map((e) => e.data),
    [{ n: 2 }],
  );
  t.deepEqual(
    bus.since(`${bus.boot}-0`)?.map((e) => e.id),
    [a.id, b.id],
  );
  bus.publish("host", { n: 3 });
  bus.publish("host", { n: 4 });
  bus.publish("host", { n: 5 });
  // a (seq 1) and b (seq 2) fell out of a ring of 3: from a, seq 2 is missing; from b, the ring still starts at 3.
  t.is(bus.since(a.id), undefined);
  t.deepEqual(
    bus.since(b.id)?.map((e) => e.data),
    [{ n: 3 }, { n: 4 }, { n: 5 }],
  );
  t.is(bus.since("zzz-1"), undefined, "another boot");
  t.is(bus.since(`${bus.boot}-99`), undefined, "from the future");
  t.is(bus.since("garbage"), undefined);
  t.is(bus.since(`${bus.boot}-1-2`), undefined);
});

/** Reads an SSE stream into parsed frames until `until` says stop or the limit passes. */
async function readSse(
  url: string,
  until: (frames: Array<{ id: string; event: string; data: unknown }>) => boolean,
  headers: Record<string, string> = {},
  limitMs = 20_000,
): Promise<Array<{ id: string; event: string; data: unknown }>> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), limitMs);
  const frames: Array<{ id: string; event: string; data: unknown }> = [];
  try {
    const res = await fetch(url, { headers, signal: ac.signal });
    if (res.status !== 200 || !res.body) throw new Error(`HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let i = buf.indexOf("\n\n");
      while (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const f = { id: "", event: "message", data: undefined as unknown };
        let hasData = false;
        for (const line of block.split("\n")) {
          if (line.startsWith("id: ")) f.id = line.slice(4);
          else if (line.startsWith("event: ")) f.event = line.slice(7);
          else if (line.startsWith("data: ")) {
            f.data = JSON.parse(line.slice(6));
            hasData = true;
          }
        }
        if (hasData) frames.push(f);
        i = buf.indexOf("\n\n");
      }
      if (until(frames)) break;
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return frames;
}

async function serve(t: import("ava").ExecutionContext, withCluster = false) {
  const rig = new Rig();
  // After start: start() loads the inventory from the store, which replaces what was added before it.
  await rig.agent.start();
  rig.host("worker-0", { administrative: "unlocked" });
  const vault = emptyVault(100);
  vault.histories.push({
    controller: 0,
    network: 0,
    reserved: 0,
    smHeartbeatFail: false,
    storage0Responding: false,
    entries: 2,
    entriesMax: 20,
    oldestEntryIndex: 2,
    entry: Array.from({ length: 20 }, (_, i) => ({ hostsEnabled: i < 2 ? 2 : 0, hostsResponding: i === 1 ? 1 : i < 2 ? 2 : 0 })),
  });
  const api = new AgentApi({
    agent: rig.agent,
    log: silentLogger(),
    address: "127.0.0.1",
    port: 0,
    token: secretFromString(TOKEN),
    ...(withCluster ? { cluster: new ClusterSource(async () => vault) } : {}),
  });
  const { port } = await api.start();
  t.teardown(async () => {
    await api.stop();
    await rig.stop();
  });
  return { rig, api, url: `http://127.0.0.1:${port}` };
}

test("GET /v1/events: host changes, alarms and heartbeat events arrive live; Last-Event-ID resumes; an unknown id resyncs", async (t) => {
  const { rig, url } = await serve(t);
  await rig.until(() => rig.state("worker-0") === "unlocked-enabled-available", 120_000);
  // Snapshot first: every host, then the active alarms.
  const snap = await readSse(`${url}/v1/events?snapshot=1`, (f) => f.some((x) => x.event === "alarms"));
  t.deepEqual(
    snap.filter((f) => f.event === "host").map((f) => (f.data as { hostname: string }).hostname),
    ["worker-0"],
  );
  const mark = snap[snap.length - 1]?.id ?? "";
  t.regex(mark, /^[0-9a-z]+-\d+$/);

  // Live: lock through the API while a client follows the stream.
  const live = readSse(
    `${url}/v1/events`,
    (f) =>
      f.some((x) => x.event === "host" && (x.data as { operational: string }).operational === "disabled") &&
      f.some((x) => x.event === "alarm" && (x.data as { id: string }).id === "200.001"),
  );
  await new Promise((r) => setTimeout(r, 200));
  const res = await fetch(`${url}/v1/hosts/worker-0`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ action: "lock" }),
  });
  t.is(res.status, 202);
  await rig.until(() => rig.state("worker-0") === "locked-disabled-online", 120_000);
  const frames = await live;
  const hostFrames = frames.filter((f) => f.event === "host").map((f) => f.data as { administrative: string; operational: string; stage?: string });
  t.true(
    hostFrames.some((h) => h.administrative === "locked" && h.stage !== undefined),
    "the lock's stages are seen",
  );
  t.true(hostFrames.some((h) => h.administrative === "locked" && h.operational === "disabled"));
  t.true(
    frames.some((f) => f.event === "alarm" && (f.data as { id: string; operation: string }).id === "200.001"),
    "the lock alarm (200.001) is in the stream",
  );

  // A heartbeat event from the hbsAgent reaches the stream as it is.
  const hb = readSse(`${url}/v1/events`, (f) => f.some((x) => x.event === "heartbeat"));
  await new Promise((r) => setTimeout(r, 200));
  rig.fabric.emitHeartbeat("minorSet", "worker-0", "clusterHost");
  const hbFrames = await hb;
  t.like(hbFrames.find((f) => f.event === "heartbeat")?.data, { kind: "minorSet", hostname: "worker-0", network: "clusterHost" });

  // Resume from the snapshot's id: everything since, in order, with increasing ids and nothing twice.
  const n = frames.length;
  const resumed = await readSse(`${url}/v1/events`, (f) => f.length >= n, { "last-event-id": mark });
  const seqs = resumed.map((f) => Number(f.id.split("-")[1]));
  t.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
  );
  t.is(new Set(seqs).size, seqs.length);
  t.true(resumed.some((f) => f.event === "host" && (f.data as { operational: string }).operational === "disabled"));

  // An id of another boot: a resync event first, then (with snapshot=1) the hosts again.
  const re = await readSse(`${url}/v1/events?snapshot=1`, (f) => f.some((x) => x.event === "alarms"), { "last-event-id": "zz-5" });
  t.is(re[0]?.event, "resync");
  t.true(re.some((f) => f.event === "host"));
});

test("GET /metrics passes promtool check metrics; labels stay bounded (no host names)", async (t) => {
  const { rig, url } = await serve(t);
  rig.host("worker-1");
  await rig.until(() => rig.state("worker-0") === "unlocked-enabled-available", 120_000);
  const res = await fetch(`${url}/metrics`);
  t.is(res.status, 200);
  t.regex(res.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await res.text();
  for (const name of [
    "metal_hosts",
    "metal_alarms_active",
    "metal_heartbeat_events_total",
    "metal_mtcalive_total",
    "metal_fsm_stage_duration_seconds",
    "metal_store_write_seconds",
    "metal_bmc_calls_total",
  ])
    t.true(text.includes(`# TYPE ${name} `), name);
  t.regex(text, /metal_hosts\{administrative="unlocked",operational="enabled",availability="available"\} 1/);
  t.regex(text, /metal_fsm_stage_duration_seconds_count\{handler="enable",stage="[A-Z_]+"\} \d/);
  t.regex(text, /metal_store_write_seconds_count [1-9]/);
  t.false(/worker-\d/.test(text), "no host name in any label");
  const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
  t.is(check.error, undefined, "promtool (Debian package prometheus) must be installed");
  t.is(check.status, 0, `${check.stdout}${check.stderr}`);
});

test("GET /v1/cluster serves the vault's rows; without an hbsAgent it is a 503 with a reason", async (t) => {
  const { url } = await serve(t, true);
  const body = (await (await fetch(`${url}/v1/cluster`)).json()) as {
    rows: Array<{ network: string; entries: Array<{ enabled: number; responding: number }> }>;
  };
  t.is(body.rows[0]?.network, "mgmt");
  t.deepEqual(body.rows[0]?.entries.slice(0, 2), [
    { enabled: 2, responding: 2 },
    { enabled: 2, responding: 1 },
  ]);
  const none = await serve(t, false);
  const r = await fetch(`${none.url}/v1/cluster`);
  t.is(r.status, 503);
  t.is(((await r.json()) as { status: string }).status, "fail");
});

test("GET /ui/ serves the dashboard and its vendored modules (no CDN); paths outside the list are 404", async (t) => {
  const { url } = await serve(t);
  const index = await fetch(`${url}/ui/`);
  t.is(index.status, 200);
  const html = await index.text();
  t.regex(html, /importmap/);
  t.false(/https?:\/\//.test(html), "no external URL");
  for (const p of ["app.js", "style.css", "vendor/preact.mjs", "vendor/hooks.mjs", "vendor/htm.mjs"]) {
    const r = await fetch(`${url}/ui/${p}`);
    t.is(r.status, 200, p);
    t.false(/https?:\/\/(?!www\.w3\.org)/.test(await r.text()) && p === "app.js", `${p} reaches out`);
  }
  for (const p of ["../package.json", "%2e%2e/package.json", "nope.js"]) t.is((await fetch(`${url}/ui/${p}`)).status, 404, p);
  t.is((await fetch(`${url}/`, { redirect: "manual" })).headers.get("location"), "/ui/");
});

test("/v1/events refuses clients past the limit with 503, and a stopped API ends every stream", async (t) => {
  const { api, url } = await serve(t);
  const controllers: AbortController[] = [];
  const opened: Array<Promise<Response>> = [];
  for (let i = 0; i < 64; i++) {
    const ac = new AbortController();
    controllers.push(ac);
    opened.push(fetch(`${url}/v1/events`, { signal: ac.signal }));
  }
  const all = await Promise.all(opened);
  t.true(all.every((r) => r.status === 200));
  const extra = await fetch(`${url}/v1/events`);
  t.is(extra.status, 503);
  t.is(api.bus.subscribers >= 64, true);
  for (const ac of controllers) ac.abort();
});
