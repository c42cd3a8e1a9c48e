/** The etcd store passes the same store-conformance suite as the file and memory stores, against a real 3-member etcd. */
import test from "ava";
import { Etcd3 } from "etcd3";
import { storeSchema } from "../src/config/ha-schema.js";
import { createEtcdClient } from "../src/ha/etcd-client.js";
import { EtcdInventoryStore, storeKeys } from "../src/inventory/etcd-store.js";
import { EtcdCluster } from "../src/lab/etcd-cluster.js";
import { storeConformance } from "../src/testing/store-conformance.js";

let cluster: EtcdCluster | undefined;
let n = 0;
test.before(async () => {
  cluster = await EtcdCluster.start();
});
test.after.always(async () => {
  await cluster?.stop();
});

storeConformance(test, {
  name: "etcd",
  create: async () => {
    const prefix = `/conf${++n}`;
    const cfg = storeSchema.parse({ kind: "etcd", endpoints: cluster?.endpoints, prefix });
    const clients: Etcd3[] = [];
    const client = () => {
      const c = createEtcdClient(cfg);
      clients.push(c);
      return c;
    };
    const raw = client();
    return {
      open: async () => new EtcdInventoryStore(client(), prefix),
      plantRaw: async (hostname, bytes) => {
        await raw.put(storeKeys(prefix).host(hostname)).value(Buffer.from(bytes));
      },
      // The controller pair's guard: a leader key on a lease, fenced by its create revision inside every Txn.
      guard: async () => {
        const lease = raw.lease(30, { autoKeepAlive: false });
        const id = await lease.grant();
        const key = `${prefix}/ha/leader`;
        const res = await raw.if(key, "Create", "==", 0).then(raw.put(key).value("test").lease(id)).commit();
        const createRevision = Number(res.header.revision);
        return {
          guard: { name: `test lease ${id}`, check: () => undefined, fence: { key, createRevision } },
          revoke: async () => {
            await lease.revoke();
          },
        };
      },
      dispose: async () => {
        await raw.delete().prefix(`${prefix}/`);
        for (const c of clients) c.close();
      },
    };
  },
});
