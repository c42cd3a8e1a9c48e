/**
 * guestAgent's VIM API on Fastify: its OpenAPI document validates (swagger-parser), every route in it answers with
 * a documented status, and the docs page is served.
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import { silentLogger } from "@metal/core/logging/logger";
import { startApiServer } from "@metal/plugin-guest/agent/api-server";
import type { AgentOps } from "@metal/plugin-guest/agent/vim-api";
import test from "ava";

const HOST = "bbbbbbbb-0000-4000-8000-00000000000b";

test("VIM API: OpenAPI document valid, every documented route answers as documented", async (t) => {
  const ops: AgentOps = {
    hostKnown: (u) => u === HOST,
    requestInventory: () => undefined,
    setHostReporting: () => ({ ok: true, value: undefined }),
    hostState: (u) =>
      u === HOST ? { ok: true, value: { uuid: u, hostname: "worker-0", state: "enabled" } } : { ok: false, status: 404, reason: "entity not found" },
    addInstance: () => ({ ok: true, value: undefined }),
    modInstance: (u) => ({ ok: true, value: { uuid: u } }),
    instanceState: () => ({ ok: false, status: 404, reason: "entity not found" }),
    delInstance: () => undefined,
    action: () => ({ ok: true, value: { timeout: 0, hostname: "worker-0" } }),
  };
  const { server, port } = await startApiServer("127.0.0.1", 0, ops, silentLogger());
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${port}`;
  const doc = (await (await fetch(`${url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
  await t.notThrowsAsync(SwaggerParser.validate(structuredClone(doc) as never));
  let calls = 0;
  for (const [path, ops2] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops2)) {
      const target = url + path.replace("{uuid}", HOST).replace("{command}", method === "post" ? "vote" : "enable");
      const res = await fetch(target, {
        method: method.toUpperCase(),
        headers: { "user-agent": "vim/1.0", "content-type": "application/json" },
        ...(["post", "put", "patch"].includes(method)
          ? { body: JSON.stringify({ hostname: "worker-0", action: "stop", services: [{ service: "heartbeat", state: "enabled" }] }) }
          : {}),
      });
      t.true(Object.keys(op.responses).includes(String(res.status)), `${method} ${path}: ${res.status}`);
      if (res.status !== 204) t.regex(await res.text(), /\n$/, "replies end in a newline");
      calls++;
    }
  t.true(calls >= 12, `${calls} routes`);
  t.is((await fetch(`${url}/v1/docs/`)).status, 200);
  // The reference's refusals still hold on the new router.
  t.is((await fetch(`${url}/v1/instances/${HOST}/frobnicate`, { method: "POST", headers: { "user-agent": "vim/1.0" }, body: "{}" })).status, 403);
  t.is((await fetch(`${url}/v1/hosts/${HOST}`, { headers: { "user-agent": "curl/8" } })).status, 403);
});
