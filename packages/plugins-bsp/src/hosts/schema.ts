import { z } from "zod";

/**
 * The host list an integrator writes once per system (YAML or JSON): the system, then one entry per host.
 * Field names follow sysinv's host attributes (reference B.2), camel-cased.
 */

/** Characters that are safe inside a pxelinux APPEND line, a GRUB `linux` line and a sed replacement. */
const SAFE_WORD = /^[A-Za-z0-9_.,:=/+@%-]+$/;
const HOSTNAME = /^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const DEVICE = /^\/dev\/[A-Za-z0-9_.:/+-]+$/;
const SW_VERSION = /^\d{1,4}\.\d{1,4}(\.\d{1,4})?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export const SYSTEM_TYPES = ["standard", "aio-sx", "aio-dx"] as const;
export const PERSONALITIES = ["controller", "worker", "storage"] as const;
export const SUBFUNCTIONS = ["controller", "worker", "storage", "lowlatency"] as const;
const BAUDS = new Set(["9600", "19200", "38400", "57600", "115200", "230400", "460800", "921600"]);

/** A kernel console: tty0, ttyS0,115200, ttyS1,115200n8, ttyUSB0, ttyAMA0, hvc0. */
export function isKnownConsole(c: string): boolean {
  const m = /^(tty\d{1,2}|ttyS\d{1,2}|ttyUSB\d{1,2}|ttyAMA\d{1,2}|hvc\d{1,2})(?:,(\d{4,6})([noe][5-8])?)?$/.exec(c);
  if (!m) return false;
  return m[2] === undefined || BAUDS.has(m[2]);
}

const url = z
  .string()
  .regex(/^https?:\/\/[A-Za-z0-9_.:[\]-]+(\/[A-Za-z0-9_.~/-]*)?$/, "must be an http(s) URL without spaces, quotes or a query")
  .transform((s) => s.replace(/\/+$/, ""));

export const systemSchema = z
  .object({
    type: z.enum(SYSTEM_TYPES),
    swVersion: z.string().regex(SW_VERSION, "must look like 24.09 or 22.12.1"),
    /** http://pxecontroller:<http_port>, the `-l` option of pxeboot-update. */
    baseUrl: url.default("http://pxecontroller:8080"),
    /** Which fallback menu is live for unconfigured nodes: `default` or `default.static`. */
    mgmtAddressing: z.enum(["dynamic", "static"]).default("dynamic"),
    /** Where dnsmasq serves the tree from (the controller's /var/pxeboot). */
    tftpRoot: z
      .string()
      .regex(/^\/[A-Za-z0-9_.\-/]*$/, "must be an absolute path")
      .default("/var/pxeboot"),
    dhcp: z
      .object({
        interface: z
          .string()
          .regex(/^[A-Za-z0-9_.:-]{1,15}$/, "must be an interface name")
          .optional(),
        /** First and last address handed out. */
        rangeStart: z.string().regex(IPV4, "must be an IPv4 address"),
        rangeEnd: z.string().regex(IPV4, "must be an IPv4 address"),
        leaseTime: z
          .string()
          .regex(/^(\d+[smhdw]?|infinite)$/, "must be like 1h, 600 or infinite")
          .default("1h"),
      })
      .strict()
      .optional(),
  })
  .strict();

export const hostSchema = z
  .object({
    hostname: z.string().regex(HOSTNAME, "must be a lower-case DNS label (a-z, 0-9, -)"),
    mac: z.string(),
    personality: z.enum(PERSONALITIES),
    subfunctions: z.array(z.enum(SUBFUNCTIONS)).default([]),
    bootDevice: z.string().optional(),
    rootfsDevice: z.string().optional(),
    /** Absent: ttyS0,115200 (sysinv's default). null or "": no console= argument at all. */
    console: z.string().nullable().optional(),
    hwSettle: z.number().int().min(0).max(3600).default(0),
    kernelArgs: z.string().max(1024).default(""),
    /** A fixed address for the DHCP host entry; otherwise dnsmasq hands one from the range. */
    ip: z.string().regex(IPV4, "must be an IPv4 address").optional(),
  })
  .strict();

export const hostListSchema = z
  .object({
    system: systemSchema,
    hosts: z.array(hostSchema).max(20_000),
  })
  .strict();

export type SystemType = (typeof SYSTEM_TYPES)[number];
export type SystemSpec = z.output<typeof systemSchema>;
export type RawHost = z.output<typeof hostSchema>;

export { DEVICE, SAFE_WORD };
