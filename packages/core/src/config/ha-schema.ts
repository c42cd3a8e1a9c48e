import { z } from "zod";

/**
 * Where the inventory lives (issue 12): `file` (the embedded default, one machine) or `etcd` (the controller pair).
 * `endpoints` are etcd client URLs; every key sits under `prefix`. `tls` names PEM files (CA, client cert and key);
 * `credentialsFile` is a 0600 JSON file `{"username": ..., "password": ...}` for etcd auth (never the password here).
 */
export const storeSchema = z
  .object({
    kind: z.enum(["file", "etcd"]).default("file"),
    endpoints: z
      .array(z.string().regex(/^https?:\/\/\S+$/, "an etcd endpoint is http(s)://host:port"))
      .min(1)
      .default(["http://127.0.0.1:2379"]),
    prefix: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]{0,120}$/, "prefix: starts with '/', letters, digits, '.', '_', '-', '/'")
      .default("/metal"),
    tls: z
      .object({ caFile: z.string().min(1), certFile: z.string().min(1).optional(), keyFile: z.string().min(1).optional() })
      .strict()
      .optional(),
    credentialsFile: z.string().min(1).optional(),
    /** Deadline of one etcd call (ms). */
    callTimeoutMs: z.number().int().min(50).max(60_000).default(1500),
  })
  .strict();

/**
 * The controller pair (issue 12): leader election on an etcd lease of `leaseTtlS` seconds, and the split-brain rule
 * from the heartbeat cluster view: an active controller that sees at least `viewMargin` fewer responding hosts than its
 * peer (averaged over the vault's last 20 periods) for `viewHoldS` seconds resigns to it; a standby never campaigns
 * while a live peer's view is healthier than its own by that margin (for at most `deferMaxS`).
 */
export const haSchema = z
  .object({
    leaseTtlS: z.number().int().min(1).max(60).default(3),
    viewMargin: z.number().min(0.5).default(2),
    viewHoldS: z.number().min(0).default(10),
    deferMaxS: z.number().min(0).default(30),
    /** After resigning, do not campaign for this long (so the peer takes over). */
    resignHoldS: z.number().min(0).default(5),
    /** How often the cluster view summary is read from the local hbsAgent and published (s). */
    viewPublishS: z.number().min(0.2).default(2),
    /** This controller's REST API address as the peer and the CLI should reach it (default http://api.address:api.port). */
    advertiseApi: z.string().url().optional(),
  })
  .strict();

export type StoreConfig = z.infer<typeof storeSchema>;
export type HaConfig = z.infer<typeof haSchema>;
