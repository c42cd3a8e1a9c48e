/**
 * inst-info (reference A.11, guestUtil_set_inst_info): what guestServer reports about one instance.
 * Every value is a string on the wire.
 */
export interface InstInfo {
  hostname: string;
  uuid: string;
  reporting: "enabled" | "disabled";
  heartbeating: "enabled" | "disabled";
  "repair-action": string;
  "restart-to": string;
  "shutdown-to": string;
  "suspend-to": string;
  "resume-to": string;
  "vote-to": string;
}

const onOff = (v: unknown): "enabled" | "disabled" => (v === "enabled" ? "enabled" : "disabled");
const str = (v: unknown, fallback = "0"): string => (typeof v === "string" ? v.slice(0, 64) : fallback);

/** Read an inst-info payload; undefined when it has no usable uuid/hostname. */
export function readInstInfo(p: Record<string, unknown>): InstInfo | undefined {
  if (typeof p.uuid !== "string" || typeof p.hostname !== "string") return undefined;
  return {
    hostname: p.hostname,
    uuid: p.uuid,
    reporting: onOff(p.reporting),
    heartbeating: onOff(p.heartbeating),
    "repair-action": str(p["repair-action"], "unknown"),
    "restart-to": str(p["restart-to"]),
    "shutdown-to": str(p["shutdown-to"]),
    "suspend-to": str(p["suspend-to"]),
    "resume-to": str(p["resume-to"]),
    "vote-to": str(p["vote-to"]),
  };
}
