import { z } from "zod";
import { actionRequestSchema, firstIssue, modifyHostSchema, newHostSchema } from "../inventory/record-schema.js";

/**
 * The REST API's shapes as zod schemas: route schemas for Fastify (request validation) and the source of the
 * OpenAPI document (`/v1/openapi.json`). Field names are the inventory's (sysinv keys, reference §1.3).
 * Request bodies are the inventory's own schemas (inventory/record-schema.ts), so the API accepts exactly
 * what the store may hold, and every front end refuses the same input with the same reason.
 */
export const FailBody = z
  .object({ status: z.literal("fail"), reason: z.string(), code: z.string().optional(), action: z.string().optional() })
  .describe("Every error");

export const HostName = z.string().min(1).max(64).describe("hostname");

export const BmcSchema = z.object({
  type: z.string().max(32),
  address: z.string().max(64),
  username: z.string().max(64),
  port: z.number().int().min(1).max(65535).optional(),
  secretRef: z.string().max(4096).optional().describe("path of the 0600 file holding the password"),
  learned: z.string().optional(),
});

export const HostViewSchema = z
  .object({
    hostname: z.string(),
    personality: z.enum(["controller", "worker", "storage"]),
    subfunctions: z.array(z.string()),
    mgmtIp: z.string().optional(),
    mgmtMac: z.string().optional(),
    clusterHostIp: z.string().optional(),
    pxebootIp: z.string().optional(),
    administrative: z.enum(["locked", "unlocked"]),
    operational: z.enum(["enabled", "disabled"]),
    availability: z.string(),
    subfunctionOper: z.enum(["enabled", "disabled"]).optional(),
    subfunctionAvail: z.string().optional(),
    action: z.string(),
    task: z.string(),
    uptime: z.number(),
    degradeMask: z.number().int(),
    bmc: BmcSchema.optional(),
    autoRecovery: z.record(z.string(), z.object({ count: z.number(), disabled: z.boolean() })).optional(),
    mtceInfo: z.record(z.string(), z.unknown()).optional(),
    handler: z.string().optional().describe("running FSM handler"),
    stage: z.string().optional().describe("its current stage"),
    queued: z.array(z.string()).describe("admin actions waiting for the running one"),
  })
  .describe("A host as maintenance keeps it");

export const AlarmSchema = z.object({
  id: z.string().describe("e.g. 200.004"),
  hostname: z.string(),
  severity: z.enum(["clear", "warning", "minor", "major", "critical"]),
  entity: z.string().optional(),
  text: z.string(),
  raisedAt: z.number().describe("ms since the epoch"),
});

/** A new host (POST /v1/hosts): the inventory's one host schema (bounded lengths, characters, depth; unknown keys refused). */
export const NewHostBody = newHostSchema;

/** PATCH /v1/hosts/{name}: either `{"action": "<action>"}` or the provisioning fields to modify (decodePatch checks which). */
export const PatchHostBody = z
  .record(z.string().max(64), z.unknown())
  .describe(
    '{"action": "lock|unlock|force-lock|reboot|reset|power-on|power-off|reinstall|swact|..."} or provisioning fields: mgmtIp, mgmtMac, clusterHostIp, pxebootIp, bmc',
  );

/** What a PATCH body asks for, checked against the one schema of its kind, for any router. */
export function decodePatch(
  body: Record<string, unknown>,
): { kind: "action"; action: string } | { kind: "modify"; fields: Record<string, unknown> } | { kind: "invalid"; reason: string } {
  if ("action" in body) {
    const r = actionRequestSchema.safeParse(body);
    return r.success ? { kind: "action", action: r.data.action } : { kind: "invalid", reason: 'an action request is {"action": "<action>"}' };
  }
  const r = modifyHostSchema.safeParse(body);
  return r.success ? { kind: "modify", fields: body } : { kind: "invalid", reason: firstIssue(r.error) };
}

export const HostsReply = z.object({ status: z.literal("pass"), hosts: z.array(HostViewSchema) });
export const HostReply = z.object({ status: z.literal("pass"), host: HostViewSchema });
export const ActionReply = z.object({ status: z.literal("pass"), action: z.string(), queued: z.boolean(), host: HostViewSchema.optional() });
export const AlarmsReply = z.object({ status: z.literal("pass"), alarms: z.array(AlarmSchema) });

export const HistoryReply = z.object({
  status: z.literal("pass"),
  history: z.array(z.object({ at: z.number().describe("ms since the epoch"), text: z.string(), kind: z.string() })).describe("oldest first"),
});

export const SensorsReply = z.object({
  status: z.literal("pass"),
  sensors: z.array(
    z.object({
      name: z.string(),
      value: z.number().nullable(),
      unit: z.string(),
      status: z.string(),
      thresholds: z.record(z.string(), z.number()).optional(),
    }),
  ),
});

export const ClusterReply = z.object({
  status: z.literal("pass"),
  periodMs: z.number(),
  storage0Enabled: z.boolean(),
  at: z.number(),
  rows: z.array(
    z.object({
      controller: z.number(),
      network: z.string(),
      storage0Responding: z.boolean(),
      smHeartbeatFail: z.boolean(),
      entries: z.array(z.object({ enabled: z.number(), responding: z.number() })).describe("the last 20 periods, oldest first"),
    }),
  ),
});
