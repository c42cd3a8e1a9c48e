import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { MtcFlag } from "../src/wire/mtc-flags.js";
import { eventually, startPair, writeScript } from "./helpers/client-process.js";

const marker = (root: string, name: string) => join(root, `ran-${name}`);

test("AIO boot: main goenabled pass starts controller services, the subf pass starts worker services", async (t) => {
  const p = await startPair(t, {
    hostIp: "127.0.1.75",
    hostname: "controller-0",
    subfunctions: ["controller", "worker"],
    client: (c) => ({ ...c, system: { type: "aio-dx" } }),
    prepare: (paths) => {
      mkdirSync(join(paths.root, "etc/platform"), { recursive: true });
      writeFileSync(paths.initialConfigComplete, "");
      writeFileSync(paths.goenabledMainReady, "");
      writeFileSync(paths.goenabledSubfReady, "");
      writeFileSync(paths.workerConfigComplete, "");
      writeScript(join(paths.goenabledDir, "check.sh"), "exit 0");
      for (const fn of ["controller", "worker", "storage"])
        writeScript(join(paths.servicesDir(fn), "svc"), `test "$1 $2" = "start both" && touch "${marker(paths.root, fn)}"`);
    },
  });
  const main = await p.waitFor((m) => m.kind === "goenabled" && m.passed && !m.subfunction);
  const subf = await p.waitFor((m) => m.kind === "goenabled" && m.passed && m.subfunction);
  t.truthy(main && subf);
  t.true(
    await eventually(() => existsSync(marker(p.root, "controller")) && existsSync(marker(p.root, "worker")), 20_000),
    "controller and worker services started",
  );
  t.false(existsSync(marker(p.root, "storage")), "no storage function on this host");
  const alive = await p.waitFor(
    (m) =>
      m.kind === "mtcAlive" &&
      (m.flags & MtcFlag.MAIN_GOENABLED) !== 0 &&
      (m.flags & MtcFlag.SUBF_GOENABLED) !== 0 &&
      (m.flags & MtcFlag.SUBF_CONFIGURED) !== 0,
  );
  t.is(alive.kind === "mtcAlive" ? alive.flags & (MtcFlag.MAIN_SERVICES_FAIL | MtcFlag.SUBF_SERVICES_FAIL) : -1, 0);
});

test("a locked host does not auto-start host services; a recent pass answers a goenabled request without a re-run", async (t) => {
  const p = await startPair(t, {
    hostIp: "127.0.1.76",
    prepare: (paths) => {
      mkdirSync(join(paths.root, "etc/platform"), { recursive: true });
      mkdirSync(paths.persistMtc, { recursive: true });
      writeFileSync(paths.nodeLockedPersist, ""); // locked before this boot
      writeFileSync(paths.initialConfigComplete, "");
      writeFileSync(paths.goenabledMainReady, "");
      writeScript(join(paths.goenabledDir, "check.sh"), `touch "${marker(paths.root, "goenabled")}"`);
      writeScript(join(paths.servicesDir("worker"), "svc"), `touch "${marker(paths.root, "worker")}"`);
    },
  });
  await p.waitFor((m) => m.kind === "goenabled" && m.passed);
  t.true(existsSync(p.paths.nodeLocked), "the persistent lock restored the volatile file at start");
  t.false(existsSync(marker(p.root, "worker")), "locked: no host services at boot");
  // The pass file is fresh: a request is answered at once, the scripts do not run again.
  rmSync(marker(p.root, "goenabled"));
  const before = p.messages.length;
  t.is(await p.agent.command("worker-1", "reqMainGoenabled"), 0);
  await p.waitFor((m) => m.kind === "goenabled" && m.passed && p.messages.indexOf(m) >= before);
  t.false(existsSync(marker(p.root, "goenabled")), "recent pass: no re-run");
});
