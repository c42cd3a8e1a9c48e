import test from "ava";
import { transferProtocolOf } from "../src/driver.js";
import { startEmulator } from "./helpers.js";

const IMAGE = "http://127.0.0.1:8080/bootimage.iso";

test("item 2a: a BMC that answers a PATCH without If-Match with 428 gets the resource's ETag (media and boot override)", async (t) => {
  const r = await startEmulator({ quirks: { virtualMediaPatchOnly: true, ifMatchRequired: true } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  await d.virtualMedia.insert(IMAGE);
  t.deepEqual(await d.virtualMedia.status(), { inserted: true, image: IMAGE });
  const patches = r.emulator.requestLog.filter((e) => e.method === "PATCH").map((e) => e.status);
  t.deepEqual(patches, [428, 204], "refused without If-Match, accepted with the ETag");
  await d.virtualMedia.eject();
  t.false((await d.virtualMedia.status()).inserted);
  await d.bootDevice.set("cd", { persistent: false });
  t.like(r.emulator.machine.boot, { target: "Cd", enabled: "Once" });
});

test("item 2b: a BMC that answers 400 to InsertMedia carrying Inserted and WriteProtected is asked again with only Image", async (t) => {
  const r = await startEmulator({ quirks: { insertMediaImageOnly: true } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  await d.virtualMedia.insert(IMAGE);
  t.deepEqual(r.emulator.machine.media, { inserted: true, image: IMAGE });
  t.deepEqual(
    r.emulator.requestLog.filter((e) => e.path.endsWith("InsertMedia")).map((e) => e.status),
    [400, 204],
  );
});

test("item 2c: a BMC that asks for TransferProtocolType gets it, derived from the image URL's scheme", async (t) => {
  t.deepEqual(["http://a/x.iso", "https://a/x.iso", "nfs://a/x.iso", "smb://a/x.iso", "gopher://a"].map(transferProtocolOf), [
    "HTTP",
    "HTTPS",
    "NFS",
    "CIFS",
    undefined,
  ]);
  const r = await startEmulator({ quirks: { transferProtocolRequired: true, insertMediaImageOnly: true } });
  t.teardown(() => r.emulator.close());
  const d = r.driver();
  t.teardown(() => d.close());
  await d.virtualMedia.insert("https://127.0.0.1:8443/bootimage.iso");
  t.is(r.emulator.machine.mediaProtocol, "HTTPS");
  t.true((await d.virtualMedia.status()).inserted);
  t.true(r.emulator.requestLog.filter((e) => e.path.endsWith("InsertMedia")).length <= 3, "at most three InsertMedia POSTs");
});
