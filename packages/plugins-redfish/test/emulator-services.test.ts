import http from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import { startEmulator } from "./helpers.js";

const AUTH = { Authorization: `Basic ${Buffer.from("root:calvin").toString("base64")}` };

test("item 12: every link in the tree resolves (Roles included); Accounts carry Name and AccountTypes; sushy's resources exist", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const base = `http://127.0.0.1:${r.port}`;
  const seen = new Set<string>();
  const queue = ["/redfish/v1/"];
  const broken: string[] = [];
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "@odata.id" && typeof x === "string" && !x.includes("#")) queue.push(x);
        else if (k !== "Actions") collect(x);
      }
    }
  };
  for (let i = 0; i < 500 && queue.length > 0; i++) {
    const path = queue.shift()!;
    const key = path.replace(/\/$/, "");
    if (seen.has(key)) continue;
    seen.add(key);
    const res = await fetch(base + path, { headers: AUTH });
    if (res.status !== 200) {
      broken.push(`${path}: ${res.status}`);
      continue;
    }
    collect(await res.json());
  }
  t.deepEqual(broken, [], "no link answers an error");
  for (const p of ["Roles/Administrator", "Roles/ReadOnly"]) t.true(seen.has(`/redfish/v1/AccountService/${p}`), p);
  const account = (await (await fetch(`${base}/redfish/v1/AccountService/Accounts/1`, { headers: AUTH })).json()) as Record<string, unknown>;
  t.is(typeof account.Name, "string");
  t.deepEqual(account.AccountTypes, ["Redfish"]);
  for (const p of [
    "Systems/1/Processors/CPU1",
    "Systems/1/SimpleStorage/1",
    "Systems/1/EthernetInterfaces/1",
    "Systems/1/Bios",
    "Systems/1/SecureBoot",
    "UpdateService",
    "TaskService",
    "EventService",
  ])
    t.true(seen.has(`/redfish/v1/${p}`), p);
});

/** Read Server-Sent Events from the emulator's ServerSentEventUri until `n` events or the stream ends. */
async function readSse(url: string, n: number, onOpen: () => Promise<void>): Promise<{ events: Array<Record<string, unknown>>; ended: boolean }> {
  const res = await fetch(url, { headers: AUTH });
  const reader = res.body!.getReader();
  const events: Array<Record<string, unknown>> = [];
  let buf = "";
  await onOpen();
  const deadline = Date.now() + 10_000;
  while (events.length < n && Date.now() < deadline) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch {
      return { events, ended: true };
    }
    if (chunk.done) return { events, ended: true };
    buf += Buffer.from(chunk.value).toString();
    let i = buf.indexOf("\n\n");
    while (i >= 0) {
      const data = buf
        .slice(0, i)
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("");
      if (data) events.push((JSON.parse(data) as { Events: Array<Record<string, unknown>> }).Events[0]!);
      buf = buf.slice(i + 2);
      i = buf.indexOf("\n\n");
    }
  }
  await reader.cancel().catch(() => {});
  return { events, ended: false };
}

test("item 13: SSE carries ResourceChanged for power and an Alert for a sensor crossing; dropping subscriptions ends the stream", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const base = `http://127.0.0.1:${r.port}`;
  const sse = await readSse(`${base}/redfish/v1/EventService/SSE`, 2, async () => {
    r.emulator.machine.reset("On");
    await fetch(`${base}/emulator/sensors/CPU1 Temp`, { method: "PATCH", body: JSON.stringify({ reading: 97, health: "Critical" }) });
  });
  t.like(sse.events[0], {
    EventType: "ResourceUpdated",
    MessageId: "ResourceEvent.1.0.ResourceChanged",
    OriginOfCondition: { "@odata.id": "/redfish/v1/Systems/1" },
  });
  t.like(sse.events[1], { EventType: "Alert", Severity: "Critical", OriginOfCondition: { "@odata.id": "/redfish/v1/Chassis/1/Sensors/CPU1Temp" } });
  const dropped = await readSse(`${base}/redfish/v1/EventService/SSE`, 1, async () => {
    await fetch(`${base}/emulator/events/drop`, { method: "POST" });
  });
  t.true(dropped.ended, "the drop knob closes the stream as a BMC reset does");
  t.is((await fetch(`${base}/redfish/v1/EventService/SSE`)).status, 401, "the stream needs credentials");
});

test("item 13: a push subscription receives events at its Destination; the drop knob removes it", async (t) => {
  const r = await startEmulator();
  t.teardown(() => r.emulator.close());
  const base = `http://127.0.0.1:${r.port}`;
  const got: Array<Record<string, unknown>> = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      got.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const dest = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  const bad = await fetch(`${base}/redfish/v1/EventService/Subscriptions`, {
    method: "POST",
    headers: AUTH,
    body: JSON.stringify({ Destination: "not a url" }),
  });
  t.is(bad.status, 400);
  const created = await fetch(`${base}/redfish/v1/EventService/Subscriptions`, {
    method: "POST",
    headers: AUTH,
    body: JSON.stringify({ Destination: dest, EventTypes: ["ResourceUpdated"], Context: "metal", Protocol: "Redfish" }),
  });
  t.is(created.status, 201);
  t.regex(created.headers.get("location") ?? "", /\/EventService\/Subscriptions\/\d+$/);
  r.emulator.machine.reset("On");
  for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((res) => setTimeout(res, 50));
  t.like(got[0], { Context: "metal", Events: [{ MessageId: "ResourceEvent.1.0.ResourceChanged" }] });
  await fetch(`${base}/emulator/events/drop`, { method: "POST" });
  const list = (await (await fetch(`${base}/redfish/v1/EventService/Subscriptions`, { headers: AUTH })).json()) as { Members: unknown[] };
  t.deepEqual(list.Members, []);
});
