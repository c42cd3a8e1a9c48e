import http from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import { learnProtocol, persistLearned, redfishVersionSupported, withLearned } from "../src/bmc/learn.js";
import { secretFromString } from "../src/di/secret.js";
import { newHostRecord } from "../src/inventory/host.js";
import { MemoryInventoryStore } from "../src/inventory/memory-store.js";
import type { HostRecord, InventoryStore } from "../src/inventory/store.js";
import { Rig } from "./support/agent-rig.js";

async function serve(handler: http.RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return { port: (s.address() as AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

const target = (port: number) => ({ host: "w", address: "127.0.0.1", port, username: "u", password: secretFromString("p"), options: { scheme: "http" } });

test("RedfishVersion >= 1.0 is redfish; older, missing, errors and silence default to ipmi, each with its reason", async (t) => {
  for (const [body, status, want, reason] of [
    ['{"RedfishVersion":"1.6.0"}', 200, "redfish", /answered RedfishVersion 1\.6\.0/],
    ['{"RedfishVersion":"0.9.5"}', 200, "ipmi", /no supported RedfishVersion \(0\.9\.5\)/],
    ['{"Name":"x"}', 200, "ipmi", /no supported RedfishVersion \(none\)/],
    ["not json", 200, "ipmi", /none/],
    ['{"error":{}}', 404, "ipmi", /HTTP 404/],
  ] as const) {
    const srv = await serve((req, res) => {
      t.is(req.headers.authorization, undefined, "learning never sends credentials");
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(body);
    });
    const r = await learnProtocol(target(srv.port));
    await srv.close();
    t.is(r.protocol, want, body);
    t.regex(r.reason, reason);
  }
  const closed = await serve(() => {});
  await closed.close();
  const r = await learnProtocol(target(closed.port));
  t.like(r, { protocol: "ipmi" });
  t.regex(r.reason, /no Redfish service .*ECONNREFUSED/);
});

test("a plain-HTTP service asked over https is a wrong scheme (use --scheme http), not 'no Redfish service'", async (t) => {
  const srv = await serve((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"RedfishVersion":"1.6.0"}');
  });
  t.teardown(() => srv.close());
  const err = await t.throwsAsync(learnProtocol({ ...target(srv.port), options: {} }));
  t.is((err as { code?: string }).code, "protocol");
  t.regex(err!.message, /answers plain HTTP, not TLS; use --scheme http/);
});

test("redfishVersionSupported parses major.minor", (t) => {
  t.true(redfishVersionSupported("1.0.0"));
  t.true(redfishVersionSupported("1.11"));
  t.false(redfishVersionSupported("0.99.0"));
  t.false(redfishVersionSupported(1.6));
  t.false(redfishVersionSupported("v1"));
});

test("the learned protocol is persisted with the host", async (t) => {
  const store: InventoryStore = new MemoryInventoryStore();
  const h: HostRecord = { ...newHostRecord({ hostname: "worker-2", personality: "worker" }), bmc: { type: "dynamic", address: "10.0.0.9", username: "root" } };
  await store.save(h);
  await persistLearned(store, "worker-2", { protocol: "redfish", reason: "x" });
  const saved = (await store.load()).hosts[0]!;
  t.is(saved.bmc?.learned, "redfish");
  t.is(saved.mtceInfo?.bmc_protocol, "redfish");
  await t.throwsAsync(persistLearned(store, "nobody", { protocol: "ipmi", reason: "x" }), { message: /unknown host/ });
});

test("a host modify keeps the learned protocol while the BMC's type, address and port stay, and forgets it otherwise", (t) => {
  const rig = new Rig();
  const bmc = { type: "dynamic", address: "10.0.0.9", username: "root", secretRef: "/etc/bmc.pw" };
  t.true(rig.agent.addHost({ hostname: "worker-2", personality: "worker", mgmtIp: "192.168.204.52", bmc }).ok);
  const c = rig.agent.ctx("worker-2")!;
  c.rec = withLearned({ ...c.rec, bmc: c.rec.bmc! }, "redfish");
  const modify = (b: object) => {
    const r = rig.agent.modifyHost("worker-2", { bmc: { ...bmc, ...b } });
    if (!r.ok) throw new Error(r.reason);
    return r.host;
  };
  let h = modify({ username: "admin", secretRef: "/etc/bmc2.pw" });
  t.is(h.bmc?.learned, "redfish", "a new user or password keeps what was learned");
  t.is(h.mtceInfo?.bmc_protocol, "redfish");
  t.true(rig.agent.modifyHost("worker-2", { mgmtIp: "192.168.204.53" }).ok);
  t.is(rig.agent.host("worker-2")?.bmc?.learned, "redfish", "a modify without the BMC keeps it");
  h = modify({ address: "10.0.0.10" });
  t.is(h.bmc?.learned, undefined, "a new address is learned again");
  t.is(h.mtceInfo?.bmc_protocol, undefined);
  c.rec = withLearned({ ...c.rec, bmc: c.rec.bmc! }, "ipmi");
  h = modify({ address: "10.0.0.10", port: 8443 });
  t.is(h.bmc?.learned, undefined, "a new port too");
  c.rec = withLearned({ ...c.rec, bmc: c.rec.bmc! }, "ipmi");
  h = modify({ address: "10.0.0.10", port: 8443, type: "fake" });
  t.is(h.bmc?.learned, undefined, "and a new type");
});
