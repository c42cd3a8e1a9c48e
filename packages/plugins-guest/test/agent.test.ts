import { request } from "node:http";
import { SystemClock } from "@metal/core/clock/index";
import { defaultConfig } from "@metal/core/config/index";
import { silentLogger } from "@metal/core/logging/index";
import test from "ava";
import { GuestAgent } from "../src/agent/guest-agent.js";
import { GuestCmd, GuestEvent } from "../src/udp/codes.js";
import { FakeVim, freePort, freeUdpPort, UdpPeer, waitFor } from "./helpers/net.js";

const HOST = "bbbbbbbb-0000-4000-8000-00000000000b";
const I1 = "44444444-aaaa-4bbb-8ccc-000000000001";
const I2 = "55555555-aaaa-4bbb-8ccc-000000000002";
const STRAY = "66666666-aaaa-4bbb-8ccc-000000000003";

/** guestAgent in process on real sockets; the test's UDP peer plays worker-1's guestServer. */
async function setup(t: import("ava").ExecutionContext) {
  const vim = await FakeVim.start();
  const server = await UdpPeer.bind();
  const config = defaultConfig({
    node: { hostname: "controller-0" },
    ports: { guestCmd: await freeUdpPort(), hbsEvent: await freeUdpPort() },
    guest: {
      server: { port: server.port },
      agent: {
        port: 0,
        apiPort: await freePort(),
        vimUrl: `http://127.0.0.1:${vim.port}`,
        auditSeconds: 1,
        hosts: [{ hostname: "worker-1", uuid: HOST, ip: "127.0.0.1" }],
      },
    },
  });
  const agent = new GuestAgent({ config, clock: new SystemClock(), logger: silentLogger() });
  const ports = await agent.start();
  t.teardown(async () => {
    await agent.stop();
    await server.close();
    await vim.close();
  });
  // node:http, not fetch: the VIM's host query is a GET with a body, which fetch refuses.
  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = { "User-Agent": "vim/1.0" }) =>
    new Promise<{ status: number; text: string; body: Record<string, unknown> | undefined }>((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
      const req = request(
        { host: "127.0.0.1", port: ports.api, path, method, headers: { ...headers, ...(data ? { "Content-Length": String(data.length) } : {}) } },
        (res) => {
          const parts: Buffer[] = [];
          res.on("data", (c: Buffer) => parts.push(c));
          res.on("end", () => {
            const text = Buffer.concat(parts).toString();
            resolve({ status: res.statusCode ?? 0, text, body: text.trim() ? (JSON.parse(text) as Record<string, unknown>) : undefined });
          });
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  const fromAgent = (cmd: number, uuid?: string) => server.received.filter((d) => d.cmd === cmd && (!uuid || d.payload.uuid === uuid));
  return { vim, server, agent, ports, api, fromAgent };
}

/** A GET with no User-Agent at all (fetch always adds one). */
function bareGet(port: number, path: string, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", ...(host ? { headers: { Host: host } } : {}) }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

test("VIM API: status codes and bodies as the reference lists them", async (t) => {
  const { api, fromAgent, ports } = await setup(t);
  t.deepEqual((await api("POST", `/v1/hosts/${HOST}`, {})).body, { status: "pass" });
  const unknownHost = await api("POST", "/v1/hosts/99999999-0000-4000-8000-000000000000", {});
  t.is(unknownHost.status, 404);
  t.is(unknownHost.text, '{"status":"fail","reason":"entity not found"}\n');
  t.is((await api("GET", "/v1/bogus")).status, 403);
  t.is((await api("GET", `/v1/instances/${I1}/frobnicate`)).status, 403);
  t.is((await api("GET", `/v1/hosts/${HOST}`, undefined, { "User-Agent": "curl/8" })).status, 403, "a wrong User-Agent is refused");
  t.is(await bareGet(ports.api, `/v1/hosts/${HOST}`), 200, "no User-Agent is accepted");
  t.is(await bareGet(ports.api, `/v1/hosts/${HOST}`, "evil.example:2410"), 403, "a foreign Host header is refused");
  t.is((await api("PUT", `/v1/hosts/${HOST}/enable`, "")).status, 400);
  t.is((await api("PUT", `/v1/hosts/${HOST}/enable`, { uuid: HOST })).status, 400, "hostname is required");
  t.is((await api("PUT", `/v1/hosts/${HOST}/enable`, { uuid: HOST, hostname: "worker-1" })).status, 200);
  t.deepEqual((await api("GET", `/v1/hosts/${HOST}/disable`, { uuid: HOST })).body, { uuid: HOST, hostname: "worker-1", state: "enabled" });
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_MOD_HOST).some((d) => d.payload.heartbeat === "enabled"), 5000));
  t.is((await api("DELETE", `/v1/hosts/${HOST}`)).status, 204);

  const services = [{ service: "heartbeat", state: "enabled" }];
  t.is((await api("POST", `/v1/instances/${I1}`, { uuid: I1, hostname: "nowhere", services })).status, 400, "unknown host: invalid data");
  t.is((await api("POST", `/v1/instances/${I1}`, { uuid: I1, hostname: "worker-1", services })).status, 200);
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_ADD_INST, I1).length > 0, 5000));
  t.like(fromAgent(GuestCmd.MTC_CMD_ADD_INST, I1)[0]?.payload, { uuid: I1, service: "heartbeat", state: "enabled" });
  t.deepEqual((await api("GET", `/v1/instances/${I1}`)).body, {
    uuid: I1,
    hostname: "worker-1",
    services: [{ service: "heartbeat", state: "enabled", "restart-timeout": "0", status: "disabled" }],
  });
  const patched = await api("PATCH", `/v1/instances/${I1}`, { uuid: I1, hostname: "worker-1", services: [{ service: "heartbeat", state: "disabled" }] });
  t.is(patched.status, 200);
  t.like(patched.body, { services: [{ state: "disabled" }] });
  // not heartbeating: nothing forwarded, timeout 0
  t.deepEqual((await api("POST", `/v1/instances/${I1}/vote`, { uuid: I1, hostname: "worker-1", action: "stop" })).body, {
    uuid: I1,
    hostname: "worker-1",
    action: "stop",
    timeout: "0",
  });
  t.is(fromAgent(GuestCmd.MTC_CMD_VOTE_INST).length, 0);
  t.is((await api("GET", `/v1/instances/${I2}`)).status, 404);
  t.is((await api("DELETE", `/v1/instances/${I1}`)).status, 204);
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_DEL_INST, I1).length > 0, 5000));
  t.is((await api("PATCH", `/v1/instances/${I1}`, "{not json")).status, 400);
  t.is((await api("POST", `/v1/instances/${I1}`, "x".repeat(20_000))).status, 413);
});

test("server events become VIM events; QRY_INST replies are reconciled with the agent's reporting state", async (t) => {
  const { api, server, agent, vim, fromAgent, ports } = await setup(t);
  await api("PUT", `/v1/hosts/${HOST}/enable`, { uuid: HOST, hostname: "worker-1" });
  const services = [{ service: "heartbeat", state: "enabled" }];
  await api("POST", `/v1/instances/${I1}`, { uuid: I1, hostname: "worker-1", services });
  const info = (uuid: string, over: Record<string, string> = {}) => ({
    hostname: "worker-1",
    uuid,
    reporting: "enabled",
    heartbeating: "enabled",
    "repair-action": "reboot",
    "restart-to": "121",
    "shutdown-to": "11",
    "suspend-to": "12",
    "resume-to": "14",
    "vote-to": "9",
    ...over,
  });
  server.send(ports.udp, GuestEvent.MTC_EVENT_HEARTBEAT_RUNNING, info(I1));
  t.true(await waitFor(() => vim.patches(I1, "service").length > 0, 5000));
  t.like(vim.patches(I1, "service")[0], { "event-data": { services: [{ status: "enabled", state: "enabled", "restart-timeout": "121" }] } });

  // timeouts reach the VIM through the vote reply; resize uses the suspend notice (QUIRK fixed: not "0")
  t.is((await api("POST", `/v1/instances/${I1}/notify`, { uuid: I1, hostname: "worker-1", action: "resize_begin" })).body?.timeout, "12");
  t.is((await api("POST", `/v1/instances/${I1}/vote`, { uuid: I1, hostname: "worker-1", action: "reboot" })).body?.timeout, "9");
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_VOTE_INST, I1).length > 0 && fromAgent(GuestCmd.MTC_CMD_NOTIFY_INST, I1).length > 0, 5000));
  t.like(fromAgent(GuestCmd.MTC_CMD_VOTE_INST, I1)[0]?.payload, { event: "reboot" });

  // vote answers: reject, timeout (agreement), complete on a notify
  server.send(ports.udp, GuestEvent.MTC_EVENT_VOTE_NOTIFY, {
    hostname: "worker-1",
    uuid: I1,
    notification_type: "revocable",
    "event-type": "reboot",
    vote: "timeout",
    reason: "",
  });
  server.send(ports.udp, GuestEvent.MTC_EVENT_VOTE_NOTIFY, {
    hostname: "worker-1",
    uuid: I1,
    notification_type: "irrevocable",
    "event-type": "resize_begin",
    vote: "complete",
    reason: "",
  });
  t.true(await waitFor(() => vim.patches(I1, "action").length === 2, 5000));
  t.deepEqual(
    vim.patches(I1, "action").map((b) => (b["event-data"] as { "guest-response": string })["guest-response"]),
    ["allow", "proceed"],
  );

  // loss: alarm with the repair action from the instance's init
  server.send(ports.udp, GuestEvent.MTC_EVENT_HEARTBEAT_LOSS, { hostname: "worker-1", uuid: I1 });
  t.true(await waitFor(() => vim.patches(I1, "alarm").length > 0, 5000));
  t.like(vim.patches(I1, "alarm")[0], { "event-data": { services: [{ state: "failed", "repair-action": "reboot" }] } });

  // audit: the server says reporting is disabled for I1 (the agent says enabled) and knows a stray instance
  server.received.length = 0;
  server.send(ports.udp, GuestEvent.MTC_CMD_QRY_INST, info(I1, { reporting: "disabled", heartbeating: "disabled" }));
  server.send(ports.udp, GuestEvent.MTC_CMD_QRY_INST, info(STRAY));
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_MOD_INST, I1).length > 0, 5000), "agent pushes its reporting state back");
  t.like(fromAgent(GuestCmd.MTC_CMD_MOD_INST, I1)[0]?.payload, { state: "enabled" });
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_DEL_INST, STRAY).length > 0, 5000), "an instance the agent does not know is deleted");
  // the audit itself queries the host's guestServer every second (auditSeconds: 1 here)
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_QRY_INST).length > 0, 5000));
  t.is(agent.inventory.instances.get(I1)?.reporting, true);
  // a bad datagram is dropped; the agent keeps working
  server.socket.send(Buffer.from("garbage"), ports.udp, "127.0.0.1");
  t.is((await api("GET", `/v1/instances/${I1}`)).status, 200);
});

test("a VIM that fails is retried: the alarm arrives on a later attempt, and events for one instance keep their order", async (t) => {
  const { api, server, vim, ports } = await setup(t);
  await api("PUT", `/v1/hosts/${HOST}/enable`, { uuid: HOST, hostname: "worker-1" });
  await api("POST", `/v1/instances/${I2}`, { uuid: I2, hostname: "worker-1", services: [{ service: "heartbeat", state: "enabled" }] });
  vim.failPatches = 2;
  server.send(ports.udp, GuestEvent.MTC_EVENT_HEARTBEAT_RUNNING, {
    hostname: "worker-1",
    uuid: I2,
    reporting: "enabled",
    heartbeating: "enabled",
    "repair-action": "stop",
  });
  server.send(ports.udp, GuestEvent.MTC_EVENT_HEARTBEAT_LOSS, { hostname: "worker-1", uuid: I2 });
  t.true(await waitFor(() => vim.patches(I2, "alarm").length > 0, 15_000), "the alarm gets through after the failures");
  const order = vim.requests.filter((r) => r.method === "PATCH" && r.url.endsWith(I2)).map((r) => r.body?.["event-type"]);
  t.deepEqual(order, ["service", "service", "service", "alarm"], "the service event is retried twice, then the alarm follows");
  t.like(vim.patches(I2, "alarm")[0], { "event-data": { services: [{ state: "failed", "repair-action": "stop" }] } });
});

test("the audit reads the host's state and instances from the VIM once, and pushes them to the guestServer", async (t) => {
  const { vim, agent, fromAgent } = await setup(t);
  vim.instances = [{ uuid: I2, hostname: "worker-1", services: [{ service: "heartbeat", state: "enabled" }] }];
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_MOD_INST, I2).length > 0, 10_000), "the VIM's instance reaches the server");
  const hostGet = vim.requests.find((r) => r.method === "GET" && r.url === `/nfvi-plugins/v1/hosts/${HOST}`);
  t.deepEqual(hostGet?.body, { hostname: "worker-1", uuid: HOST }, "the host query is a GET with a body, as the original");
  t.true(vim.requests.some((r) => r.method === "GET" && r.url === `/nfvi-plugins/v1/instances/?host_uuid=${HOST}`));
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_MOD_HOST).some((d) => d.payload.heartbeat === "enabled"), 5000), "host reporting from the VIM");
  t.is(agent.inventory.instances.get(I2)?.reporting, true);
  // fetched once: later audits only query the guestServer
  const gets = vim.requests.filter((r) => r.method === "GET").length;
  t.true(await waitFor(() => fromAgent(GuestCmd.MTC_CMD_QRY_INST).length >= 2, 10_000));
  t.is(vim.requests.filter((r) => r.method === "GET").length, gets);
});
