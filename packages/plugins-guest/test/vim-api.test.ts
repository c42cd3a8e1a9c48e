import test from "ava";
import fc from "fast-check";
import { type AgentOps, handleApiRequest, parseApiUrl } from "../src/agent/vim-api.js";

const U = "12345678-1234-4234-8234-123456789abc";

/** Operations that record calls and always succeed: the router alone is under test. */
function recordingOps(calls: string[]): AgentOps {
  const ok = <T>(call: string, value: T) => {
    calls.push(call);
    return { ok: true as const, value };
  };
  return {
    hostKnown: () => true,
    requestInventory: () => calls.push("inventory"),
    setHostReporting: (_u, _h, e) => ok(`host:${e}`, undefined),
    hostState: (u) => ({ ok: true, value: { uuid: u, hostname: "w", state: "enabled" } }),
    addInstance: (u) => ok(`add:${u}`, undefined),
    modInstance: (u, _h, r) => ok(`mod:${r}`, { uuid: u }),
    instanceState: (u) => ({ ok: true, value: { uuid: u } }),
    delInstance: (u) => calls.push(`del:${u}`),
    action: (_u, kind, event) => ok(`${kind}:${event}`, { timeout: 7, hostname: "w" }),
  };
}

test("URL parsing finds the level by substring, then 36 characters of uuid and an optional command", (t) => {
  t.deepEqual(parseApiUrl(`/v1/hosts/${U}`), { level: "hosts", uuid: U });
  t.deepEqual(parseApiUrl(`/nfvi/v1/instances/${U.toUpperCase()}/vote`), { level: "instances", uuid: U, command: "vote" });
  t.deepEqual(parseApiUrl(`/v1/hosts/${U}/enable/`), { level: "hosts", uuid: U, command: "enable" });
  t.is(parseApiUrl(`/v1/hosts/${U.slice(0, 35)}`), undefined);
  t.is(parseApiUrl(`/v1/hosts/${U}/reboot`), undefined);
  t.is(parseApiUrl("/v2/hosts/x"), undefined);
});

test("the router maps each method and command to its operation", (t) => {
  const calls: string[] = [];
  const ops = recordingOps(calls);
  const req = (method: string, url: string, body?: unknown) =>
    handleApiRequest({ method, url, userAgent: "vim/1.0", host: "localhost:2410", body: body === undefined ? undefined : JSON.stringify(body) }, ops);
  t.is(req("PUT", `/v1/hosts/${U}/disable`, { hostname: "w" }).status, 200);
  t.is(req("POST", `/v1/instances/${U}`, { hostname: "w", services: [{ service: "heartbeat", state: "enabled" }] }).status, 200);
  t.is(req("PATCH", `/v1/instances/${U}`, { services: [{ service: "heartbeat", state: "enabled" }] }).status, 200);
  t.is(req("PATCH", `/v1/instances/${U}`, { services: [] }).status, 400, "PATCH needs the heartbeat service");
  t.deepEqual(req("POST", `/v1/instances/${U}/notify`, { action: "pause" }).body, { uuid: U, hostname: "w", action: "pause", timeout: "7" });
  t.is(req("GET", `/v1/instances/${U}/vote`).status, 400);
  t.is(req("DELETE", `/v1/instances/${U}`).status, 204);
  t.is(req("PUT", `/v1/instances/${U}`).status, 400, "unsupported http command");
  t.is(req("POST", `/v1/instances/${U}`).status, 411, "no body at all: length required");
  t.deepEqual(calls, ["host:false", `add:${U}`, "mod:true", "notify:pause", `del:${U}`]);
});

test("random requests never throw and always get a status with a JSON body or 204", (t) => {
  const calls: string[] = [];
  const ops = recordingOps(calls);
  const url = fc.oneof(
    fc.string({ maxLength: 120 }),
    fc
      .tuple(
        fc.constantFrom("/v1/hosts/", "/v1/instances/"),
        fc.constantFrom(U, U.slice(3), "x".repeat(36)),
        fc.constantFrom("", "/", "/enable", "/vote", "/notify", "/x"),
      )
      .map((p) => p.join("")),
  );
  const body = fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 })), { nil: undefined });
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.constantFrom("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD", "BREW"),
        url,
        body,
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        (method, u, b, ua) => {
          const r = handleApiRequest({ method, url: u, userAgent: ua, host: undefined, body: b }, ops);
          return r.status === 204 ? r.body === undefined : r.status >= 200 && r.status < 600 && typeof r.body === "object";
        },
      ),
      { numRuns: 3000 },
    ),
  );
});
