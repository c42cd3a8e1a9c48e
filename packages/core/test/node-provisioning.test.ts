import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { nodePaths } from "../src/config/paths.js";
import { MtcFlag } from "../src/wire/mtc-flags.js";
import { METAL_MAIN, startPair } from "./helpers/client-process.js";

/** A standalone node enables: its provisioned flag files come from `metal node init` or `metal client --provisioned`. */
const metal = (...args: string[]) =>
  spawnSync(process.execPath, [METAL_MAIN, ...args], { encoding: "utf8", timeout: 240_000, env: { ...process.env, NO_COLOR: "1" } });

function nodeConfig(subfunctions: string[]) {
  const root = mkdtempSync(join(tmpdir(), "metal-node-"));
  const file = join(root, "metal.yaml");
  writeFileSync(file, `root: ${root}\nnode:\n  hostname: worker-3\n  subfunctions: [${subfunctions.join(", ")}]\n`);
  return { root, file, paths: nodePaths(root) };
}

test("metal node init writes the flag files of a provisioned worker, then finds them present", (t) => {
  const n = nodeConfig(["worker"]);
  const first = metal("node", "init", "-c", n.file, "-f", "json");
  t.is(first.status, 0, first.stderr);
  const expected = [n.paths.initialConfigComplete, n.paths.configPass, n.paths.goenabledMainReady, n.paths.workerConfigComplete, n.paths.goenabledSubfReady];
  t.deepEqual(
    JSON.parse(first.stdout),
    expected.map((file) => ({ file, state: "written" })),
  );
  for (const f of expected) t.true(existsSync(f), f);
  const again = metal("node", "init", "-c", n.file, "-f", "value", "--column", "state");
  t.is(again.stdout, "present\npresent\npresent\npresent\npresent\n");
});

test("metal node init refuses a node whose config failed (.config_fail), writing nothing", (t) => {
  const n = nodeConfig(["controller"]);
  mkdirSync(n.paths.varRun, { recursive: true });
  writeFileSync(n.paths.configFail, "");
  const r = metal("node", "init", "-c", n.file);
  t.is(r.status, 1);
  t.regex(r.stderr, /^metal: node init: .*\.config_fail exists: this node's configuration failed/);
  t.false(existsSync(n.paths.initialConfigComplete));
});

test("metal client --provisioned: a node with no flag files says configured, healthy and goenabled", async (t) => {
  const p = await startPair(t, { hostIp: "127.0.1.71", hostname: "worker-3", clientArgs: ["--provisioned"] });
  const want = MtcFlag.I_AM_CONFIGURED | MtcFlag.I_AM_HEALTHY | MtcFlag.SUBF_CONFIGURED | MtcFlag.MAIN_GOENABLED;
  const alive = await p.waitFor((m) => m.kind === "mtcAlive" && (m.flags & want) === want, 60_000);
  t.is(alive.kind, "mtcAlive");
  t.true(existsSync(p.paths.goenabledPass), "the main goenabled tests ran and passed");
});

test("nodeActions: lab outside the lab: metal client and metal hostwd refuse to start, one line with the reason", (t) => {
  const n = nodeConfig(["worker"]);
  writeFileSync(n.file, `root: ${n.root}\nnode:\n  hostname: worker-3\n  subfunctions: [worker]\nmessaging:\n  nodeActions: lab\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.METAL_LAB_SUPERVISOR;
  for (const cmd of ["client", "hostwd"]) {
    const r = spawnSync(process.execPath, [METAL_MAIN, cmd, "-c", n.file], { encoding: "utf8", timeout: 240_000, env });
    t.is(r.status, 1, `${cmd}: ${r.stderr}`);
    t.regex(
      r.stderr,
      /^metal: (client: |hostwd: )?messaging\.nodeActions: lab is only for hosts the lab starts \(METAL_LAB_SUPERVISOR unset\): a reboot would end this process with exit 75 and nothing would start it again; use nodeActions: systemd on a real node\n$/,
      cmd,
    );
  }
});
