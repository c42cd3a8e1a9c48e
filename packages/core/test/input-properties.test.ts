import test from "ava";
import fc from "fast-check";
import { AgentApi } from "../src/api/agent-api.js";
import { ApiClient, ApiError } from "../src/api/client.js";
import { secretFromString } from "../src/di/secret.js";
import { validateNewHost } from "../src/inventory/record-schema.js";
import { LAB_ACTIONS, parseLabStep } from "../src/lab/scenario.js";
import { silentLogger } from "../src/logging/logger.js";
import { Rig } from "./support/agent-rig.js";

test("host validation never throws on hostile input; it accepts or names the bad field", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const r = validateNewHost(v as never);
        return r === undefined || (typeof r === "string" && r.length > 0 && r.length < 200);
      }),
      { numRuns: 2000 },
    ),
  );
});

test("lab --do parsing: well-formed steps round-trip; anything else is an Error naming --do", (t) => {
  const roundTrip = fc.property(
    fc.nat({ max: 86_400 }),
    fc.constantFrom(...LAB_ACTIONS),
    fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
    fc.boolean(),
    fc.boolean(),
    (at, action, host, ready, refused) => {
      // Actions that need a third word get a valid one; power-outage takes no host.
      const arg =
        action === "cut" || action === "heal"
          ? " cluster-host"
          : action === "set-flag" || action === "clear-flag"
            ? " .sm_node_unhealthy"
            : action === "crash-process"
              ? " hbsClient"
              : "";
      const who = action === "power-outage" ? "all" : host;
      const s = parseLabStep(`${ready ? "ready+" : ""}${at}:${refused ? "!" : ""}${action} ${who}${arg}`);
      return s.atS === at && s.action === action && s.host === who && s.afterReady === ready && s.expectRefused === refused && (s.arg ?? "") === arg.trim();
    },
  );
  const hostile = fc.property(fc.string({ maxLength: 80 }), (text) => {
    try {
      const s = parseLabStep(text);
      return (LAB_ACTIONS as readonly string[]).includes(s.action);
    } catch (err) {
      return err instanceof Error && err.message.startsWith("--do ");
    }
  });
  t.notThrows(() => fc.assert(roundTrip));
  t.notThrows(() => fc.assert(hostile, { numRuns: 2000 }));
  t.throws(() => parseLabStep("12:explode worker-0"), { message: /unknown action 'explode'/ });
  t.throws(() => parseLabStep("12:cut worker-0 storage"), { message: /unknown network 'storage'/ });
  t.throws(() => parseLabStep("12:set-flag worker-0 ../../etc/passwd"), { message: /not a flag file/ });
  t.throws(() => parseLabStep("12:set-flag worker-0 /var/run/../x"), { message: /not a flag file/ });
  t.throws(() => parseLabStep("12:lock worker-0 now"), { message: /takes no argument/ });
  t.like(parseLabStep("ready+3:power-outage 45"), { action: "power-outage", host: "all", arg: "45", afterReady: true });
  t.like(parseLabStep("5:!unlock worker-0"), { action: "unlock", expectRefused: true });
});

test("REST API: random JSON bodies and paths get a JSON answer, never a 500, and the agent keeps serving", async (t) => {
  const rig = new Rig();
  await rig.agent.start();
  const api = new AgentApi({ agent: rig.agent, log: silentLogger(), address: "127.0.0.1", port: 0, token: secretFromString("tok") });
  const { port } = await api.start();
  t.teardown(async () => {
    await api.stop();
    await rig.stop();
  });
  const client = new ApiClient(`http://127.0.0.1:${port}`, "tok");
  const statuses = new Set<number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("POST", "PATCH", "DELETE", "GET"),
      fc.constantFrom("/v1/hosts", "/v1/hosts/worker-0", "/v1/hosts/%00", "/v1/alarms", "/v1/hosts/a/b", "/x"),
      fc.jsonValue({ maxDepth: 3 }),
      async (method, path, body) => {
        try {
          await client.request(method, path, method === "GET" || method === "DELETE" ? undefined : body);
          statuses.add(200);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          statuses.add(err.status);
          if (err.status >= 500 || err.status === 0) return false;
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.false([...statuses].some((s) => s >= 500));
  const list = await client.request<{ hosts: unknown[] }>("GET", "/v1/hosts");
  t.true(Array.isArray(list.hosts));
});
