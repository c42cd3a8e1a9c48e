import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { FileInventoryStore } from "../src/inventory/file-store.js";
import { MemoryInventoryStore } from "../src/inventory/memory-store.js";
import type { InventoryStore } from "../src/inventory/store.js";
import { storeConformance } from "../src/testing/store-conformance.js";

/** A guard that holds until revoked (the file store's stand-in for a leader lease). */
function flagGuard() {
  let held = true;
  return {
    guard: {
      name: "test lease",
      check: () => {
        if (!held) throw new Error("lease lost");
      },
    },
    revoke: async () => {
      held = false;
    },
  };
}

storeConformance(test, {
  name: "file",
  create: async () => {
    const dir = mkdtempSync(join(tmpdir(), "metal-store-conf-"));
    const handles: InventoryStore[] = [];
    return {
      open: async () => {
        const s = new FileInventoryStore({ stateDir: dir });
        handles.push(s);
        return s;
      },
      plantRaw: async (hostname, bytes) => writeFileSync(join(dir, "hosts", `${hostname}.host.json`), bytes),
      guard: async () => flagGuard(),
      dispose: async () => {
        for (const h of handles) await h.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

storeConformance(test, {
  name: "memory",
  create: async () => {
    const s = new MemoryInventoryStore();
    return {
      open: async () => s,
      plantRaw: async (hostname, bytes) => s.plantRaw(hostname, bytes),
      guard: async () => flagGuard(),
      dispose: async () => s.close(),
    };
  },
});
