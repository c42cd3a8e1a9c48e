import { isIP } from "node:net";
import { z } from "zod";
import { valueDepth } from "../validation/json-text.js";
import { ADMIN_ACTIONS, AR_CAUSES, AVAIL_STATES } from "./host.js";
import type { HostRecord } from "./store.js";

/**
 * The one schema of a host: field schemas shared by the REST request bodies (api/schemas.ts) and the stored
 * record, so what the API accepts is exactly what the store may hold. Every string has a length and a
 * character limit, every collection a count limit, free-form JSON a depth and size limit.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` holds a C0 control character or DEL. */
export function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Printable text: no C0 controls or DEL, no lone UTF-16 surrogates. */
export const printable = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !hasControl(s), "control characters are not allowed")
    .refine((s) => !LONE_SURROGATE.test(s), "not well-formed Unicode");

export const hostnameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and '-', at most 63, not starting with '-'");
export const personalitySchema = z.enum(["controller", "worker", "storage"], { error: "must be controller, worker or storage" });
export const subfunctionsSchema = z
  .array(z.enum(["controller", "worker", "storage", "lowlatency"]))
  .min(1)
  .max(4);
export const macSchema = z.string().regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, "six colon-separated hex octets");
export const ipSchema = z
  .string()
  .max(45)
  .refine((s) => isIP(s) !== 0, "not an IP address");
/** A BMC address: an IP address or a DNS name. */
export const bmcAddressSchema = z
  .string()
  .max(253)
  .refine((s) => isIP(s) !== 0 || (/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(s) && !/^[0-9.]+$/.test(s)), "an IP address or a DNS name");
/**
 * Where a BMC password is: an absolute file path, or a name resolved by the agent's secret resolver
 * (a file of that name under `security.secretsDir`). Never the password itself.
 */
export const secretRefSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine(
    (s) => (s.startsWith("/") || /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(s)) && !hasControl(s) && !s.split("/").includes(".."),
    "an absolute file path or a secret name, no '..'",
  );

export const bmcSchema = z.strictObject({
  type: z.string({ error: "needs type, address and username" }).regex(/^[a-z0-9-]{1,32}$/, "a BMC protocol name (ipmi, redfish, dynamic, ...)"),
  address: z.string({ error: "needs type, address and username" }).pipe(bmcAddressSchema),
  username: z.string({ error: "needs type, address and username" }).pipe(printable(64)).pipe(z.string().min(1)),
  port: z.number().int().min(1).max(65535).optional(),
  secretRef: secretRefSchema.optional(),
  learned: z.enum(["ipmi", "redfish"]).optional(),
});

const MAX_INFO_BYTES = 128 * 1024;
const MAX_INFO_DEPTH = 8;
/** Free-form maintenance info (mtce_info): a JSON object, at most 8 deep and 128 KiB. */
export const mtceInfoSchema = z.record(z.string().max(64), z.unknown()).superRefine((v, ctx) => {
  if (valueDepth(v, MAX_INFO_DEPTH) > MAX_INFO_DEPTH) ctx.addIssue({ code: "custom", message: `nested deeper than ${MAX_INFO_DEPTH}` });
  else if (JSON.stringify(v).length > MAX_INFO_BYTES) ctx.addIssue({ code: "custom", message: `over ${MAX_INFO_BYTES} bytes` });
});

export const adminActionSchema = z.enum(ADMIN_ACTIONS);
export const availabilitySchema = z.enum(AVAIL_STATES);

/** A stored host (HostRecord). */
export const hostRecordSchema = z.strictObject({
  hostname: hostnameSchema,
  personality: personalitySchema,
  subfunctions: subfunctionsSchema,
  mgmtIp: ipSchema.optional(),
  mgmtMac: macSchema.optional(),
  clusterHostIp: ipSchema.optional(),
  pxebootIp: ipSchema.optional(),
  administrative: z.enum(["locked", "unlocked"]),
  operational: z.enum(["enabled", "disabled"]),
  availability: availabilitySchema,
  subfunctionOper: z.enum(["enabled", "disabled"]).optional(),
  subfunctionAvail: availabilitySchema.optional(),
  action: adminActionSchema,
  queued: z.array(adminActionSchema).max(4).optional(),
  task: printable(128),
  uptime: z.number().int().min(0).max(0xffffffff),
  degradeMask: z.number().int().min(0).max(0xffffffff),
  bmc: bmcSchema.optional(),
  autoRecovery: z.partialRecord(z.enum(AR_CAUSES), z.strictObject({ count: z.number().int().min(0).max(1_000_000), disabled: z.boolean() })).optional(),
  mtceInfo: mtceInfoSchema.optional(),
});

/** The first problem of a zod error as one short line: `bmc.port: Too big: expected number to be <=65535`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  const path = issue.path.map(String).join(".");
  return `${path ? `${path}: ` : ""}${issue.message}`.slice(0, 200);
}

/** Check a value as a stored host; the reason names the first bad field. */
export function checkHostRecord(value: unknown): { ok: true; host: HostRecord } | { ok: false; reason: string } {
  const r = hostRecordSchema.safeParse(value);
  if (!r.success) return { ok: false, reason: firstIssue(r.error) };
  return { ok: true, host: r.data as HostRecord };
}

/** A row of the active alarm table as stored (ActiveAlarm). */
export const activeAlarmSchema = z.strictObject({
  id: z.string().regex(/^\d{3}\.\d{3}$/, "an alarm id like 200.004"),
  hostname: hostnameSchema,
  severity: z.enum(["clear", "warning", "minor", "major", "critical"]),
  entity: printable(128).optional(),
  text: printable(1024),
  raisedAt: z.number().int().min(0),
});

/** The body of POST /v1/hosts (and `metal host-add`): what an operator provisions. Unknown keys are refused. */
export const newHostSchema = z.strictObject({
  hostname: hostnameSchema,
  personality: personalitySchema,
  subfunctions: subfunctionsSchema.optional(),
  mgmtIp: ipSchema.optional(),
  mgmtMac: macSchema.optional(),
  clusterHostIp: ipSchema.optional(),
  pxebootIp: ipSchema.optional(),
  bmc: bmcSchema.omit({ learned: true }).optional(),
  administrative: z.enum(["locked", "unlocked"], { error: "must be locked or unlocked" }).optional(),
});

/** A modify of provisioning fields (PATCH /v1/hosts/{name} without `action`). */
export const modifyHostSchema = z.strictObject(
  {
    mgmtIp: ipSchema.optional(),
    mgmtMac: macSchema.optional(),
    clusterHostIp: ipSchema.optional(),
    pxebootIp: ipSchema.optional(),
    bmc: bmcSchema.omit({ learned: true }).optional(),
    personality: personalitySchema.optional(),
    subfunctions: subfunctionsSchema.optional(),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? `cannot modify ${iss.keys.join(", ")} (modifiable: mgmtIp, mgmtMac, clusterHostIp, pxebootIp, bmc, personality, subfunctions; use an action for admin state)`
        : undefined,
  },
);

/** An admin action request (PATCH /v1/hosts/{name} with `action`). */
export const actionRequestSchema = z.strictObject({ action: z.string().regex(/^[a-z-]{1,32}$/, "an action name like lock or force-lock") });

/** Validate operator input for a new host; returns the reason (field: problem) when it is unusable. */
export function validateNewHost(h: unknown): string | undefined {
  if (typeof h !== "object" || h === null || Array.isArray(h)) return "a host is a JSON object";
  const r = newHostSchema.safeParse(h);
  return r.success ? undefined : firstIssue(r.error);
}
