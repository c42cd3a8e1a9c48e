import test from "ava";
import fc from "fast-check";
import { parse } from "yaml";
import { HostListError, loadHostList, validateHostList } from "../src/hosts/host-list.js";
import { macDashes, normalizeMac, pxeFileNames } from "../src/hosts/mac.js";
import { parseTraits, TraitsError, traitsString } from "../src/hosts/traits.js";
import { AIO_DX_HOSTS, STANDARD_HOSTS, tempDir, writeFixture } from "./helpers.js";

const base = () => parse(STANDARD_HOSTS) as { system: Record<string, unknown>; hosts: Array<Record<string, unknown>> };

function problemsOf(doc: unknown): string[] {
  try {
    validateHostList(doc, "hosts.yaml");
  } catch (err) {
    if (err instanceof HostListError) return [...err.problems];
    throw err;
  }
  return [];
}

test("a good host list loads with normalised MACs, install devices, consoles and roles", async (t) => {
  const file = writeFixture(tempDir(), "hosts.yaml", AIO_DX_HOSTS);
  const list = await loadHostList(file);
  t.is(list.system.type, "aio-dx");
  t.is(list.system.baseUrl, "http://pxecontroller:8080");
  const [c0, c1, w0, w1] = list.hosts;
  t.is(c0?.mac, "52:54:00:aa:bb:01");
  t.is(c1?.mac, "52:54:00:aa:bb:02");
  t.deepEqual(c0?.role, { nodetype: "controller", aio: true, lowlatency: false });
  t.deepEqual(c1?.role, { nodetype: "controller", aio: true, lowlatency: true });
  t.is(c0?.console, "ttyS0,115200", "absent console is sysinv's default");
  t.is(w0?.console, null, "null console: no console= argument");
  t.is(w1?.console, null, "empty console: no console= argument");
  t.is(w0?.installDevice, "/dev/nvme0n1", "rootfs device when there is no boot device");
  t.deepEqual(w0?.kernelArgs, ["nopti", "nospectre_v2"]);
  t.is(list.system.mgmtAddressing, "dynamic");
});

test("each kind of bad host is refused with a clear line naming the host", (t) => {
  const cases: Array<[string, (d: ReturnType<typeof base>) => void, RegExp]> = [
    ["bad MAC", (d) => (d.hosts[3]!.mac = "52:54:00:zz:00:04"), /hosts\[3\] \(worker-0\)\.mac: bad MAC '52:54:00:zz:00:04'/],
    ["short MAC", (d) => (d.hosts[3]!.mac = "52:54:00:00:04"), /bad MAC/],
    ["multicast MAC", (d) => (d.hosts[3]!.mac = "01:00:5e:00:00:01"), /not a host NIC address/],
    ["storage with worker", (d) => (d.hosts[2]!.subfunctions = ["worker"]), /hosts\[2\] \(storage-0\): storage cannot be combined with worker/],
    ["storage lowlatency", (d) => (d.hosts[2]!.subfunctions = ["lowlatency"]), /storage cannot be lowlatency/],
    ["unknown console", (d) => (d.hosts[0]!.console = "ttyX9"), /controller-0\)\.console: unknown console 'ttyX9'/],
    ["odd baud", (d) => (d.hosts[0]!.console = "ttyS0,12345"), /unknown console 'ttyS0,12345'/],
    ["missing device", (d) => delete d.hosts[3]!.bootDevice, /worker-0\): missing device: give bootDevice or rootfsDevice/],
    ["not a /dev path", (d) => (d.hosts[3]!.bootDevice = "sda"), /bootDevice: 'sda' is not a \/dev path/],
    ["duplicate MAC", (d) => (d.hosts[3]!.mac = "52-54-00-00-00-01"), /worker-0\): duplicate MAC 52:54:00:00:00:01 \(also controller-0\)/],
    ["duplicate hostname", (d) => (d.hosts[3]!.hostname = "storage-0"), /duplicate hostname 'storage-0' \(also hosts\[2\]\)/],
    ["AIO controller on a standard system", (d) => (d.hosts[0]!.subfunctions = ["worker"]), /controller,worker is an All-in-one/],
    ["lowlatency standard controller", (d) => (d.hosts[0]!.subfunctions = ["lowlatency"]), /no lowlatency variant/],
    ["unsafe kernel args", (d) => (d.hosts[3]!.kernelArgs = "quiet; reboot"), /'quiet;' has characters that are unsafe/],
    ["unknown personality", (d) => (d.hosts[3]!.personality = "router"), /hosts\[3\] \(worker-0\)\.personality: /],
    ["unknown key", (d) => (d.hosts[3]!.bootdevice = "/dev/sda"), /hosts\[3\] \(worker-0\): .*bootdevice/i],
    ["bad system type", (d) => (d.system.type = "aio-tx"), /system\.type: /],
    ["bad base URL", (d) => (d.system.baseUrl = "http://x y"), /system\.baseUrl: must be an http\(s\) URL/],
    ["three controllers", (d) => d.hosts.push({ ...d.hosts[0], hostname: "controller-2", mac: "52:54:00:00:00:09" }), /at most two controllers \(found 3\)/],
    ["storage on AIO", (d) => (d.system.type = "aio-dx"), /storage hosts need a standard system/],
  ];
  for (const [what, edit, expected] of cases) {
    const doc = base();
    edit(doc);
    const problems = problemsOf(doc);
    t.true(
      problems.some((p) => expected.test(p)),
      `${what}: ${problems.join(" | ") || "(accepted)"}`,
    );
  }
});

test("every problem is reported in one pass, and the error message lists them", (t) => {
  const doc = base();
  doc.hosts[0]!.mac = "nope";
  doc.hosts[2]!.subfunctions = ["worker"];
  doc.hosts[3]!.console = "serial";
  const err = t.throws(() => validateHostList(doc, "hosts.yaml"), { instanceOf: HostListError });
  t.is(err?.problems.length, 3);
  t.regex(err?.message ?? "", /^hosts\.yaml: 3 problems:\n {2}hosts\[0\]/);
});

test("aio-sx has exactly one controller and no workers", (t) => {
  const doc = base();
  doc.system.type = "aio-sx";
  doc.hosts = [doc.hosts[0]!, doc.hosts[3]!];
  const problems = problemsOf(doc);
  t.true(problems.some((p) => /an aio-sx system has only its one controller/.test(p)));
  doc.hosts = [doc.hosts[0]!];
  t.deepEqual(problemsOf(doc), []);
});

test("an unreadable or non-YAML file is one clear problem, not a crash", async (t) => {
  const dir = tempDir();
  await t.throwsAsync(loadHostList(`${dir}/absent.yaml`), { message: /absent\.yaml: 1 problem:\n {2}cannot read: ENOENT/ });
  const bad = writeFixture(dir, "bad.yaml", "system: [unclosed\n");
  await t.throwsAsync(loadHostList(bad), { message: /not valid YAML\/JSON/ });
  const json = writeFixture(dir, "hosts.json", JSON.stringify(base()));
  t.is((await loadHostList(json)).hosts.length, 4, "JSON works too");
});

test("MAC normalisation: both separators, any case; file names use dashes and the 01- prefix", (t) => {
  t.is(normalizeMac("52-54-00-AA-bb-0C"), "52:54:00:aa:bb:0c");
  t.is(normalizeMac("52:54:00-aa:bb:0c"), undefined);
  t.is(normalizeMac("5254.00aa.bb0c"), undefined);
  t.deepEqual(pxeFileNames("52:54:00:aa:bb:0c"), { bios: "01-52-54-00-aa-bb-0c", uefi: "efi-01-52-54-00-aa-bb-0c", uefiCfg: "efi-01-52-54-00-aa-bb-0c.cfg" });
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.boolean(), (bytes, upper) => {
      const text = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
      const mac = normalizeMac(upper ? text.toUpperCase() : text);
      return mac === text && macDashes(mac).split("-").length === 6;
    }),
  );
  fc.assert(fc.property(fc.string(), (s) => normalizeMac(s) === undefined || /^[0-9a-f:]{17}$/.test(normalizeMac(s)!)));
});

test("traits: the six valid sets parse; invalid combinations fail with a reason", (t) => {
  const valid: Record<string, string> = {
    controller: "controller",
    "controller,worker": "controller,worker",
    "worker,controller,lowlatency": "controller,worker,lowlatency",
    storage: "storage",
    worker: "worker",
    "worker,lowlatency": "worker,lowlatency",
  };
  for (const [input, canonical] of Object.entries(valid)) t.is(traitsString(parseTraits(input)), canonical, input);
  for (const [bad, why] of [
    ["storage,worker", /storage cannot be combined with worker/],
    ["storage,lowlatency", /storage cannot be combined/],
    ["controller,lowlatency", /lowlatency needs worker/],
    ["lowlatency", /lowlatency needs worker/],
    ["", /empty/],
    ["controller,router", /unknown trait\(s\) router/],
    ["worker,worker", /repeat/],
  ] as const) {
    t.throws(() => parseTraits(bad), { instanceOf: TraitsError, message: why }, bad);
  }
});
