import { isIP } from "node:net";
import { z } from "zod";
import { pmonSchema } from "../pmon/settings.js";
import { bmcSchema, hwmonSchema } from "./bmc-schema.js";
import { haSchema, storeSchema } from "./ha-schema.js";

/**
 * The one metal config file (YAML or JSON). Defaults are the reference's shipped values
 * (mtc.conf, mtc.ini; reference mtce-core.md §1.2, §3.2, §10). Seconds unless the name says Ms.
 */
const port = z.number().int().min(0).max(65535);
const seconds = z.number().int().min(0);
const ipv4OrV6 = z
  .string()
  .min(1)
  .max(64)
  .refine((s) => isIP(s) !== 0, { message: "not an IPv4 or IPv6 address" });

export const networkSchema = z
  .object({
    /** This node's address on the network. */
    address: ipv4OrV6.optional(),
    /** The controller's (floating) address on the network, where mtcAlive goes. */
    controller: ipv4OrV6.optional(),
    interface: z.string().min(1).max(15).optional(),
  })
  .strict();

export const portsSchema = z
  .object({
    agentMgmt: port.default(2101),
    agentPxeboot: port.default(2102),
    clientMgmt: port.default(2118),
    clientClstr: port.default(2115),
    clientPxeboot: port.default(2119),
    hbsAgentMgmt: port.default(2103),
    hbsAgentClstr: port.default(2113),
    hbsCmd: port.default(2104),
    hbsClientMgmt: port.default(2106),
    hbsClientClstr: port.default(2116),
    hbsEvent: port.default(2107),
    guestCmd: port.default(2108),
    pmonPulse: port.default(2109),
    invEvent: port.default(2112),
    hwmonCmd: port.default(2114),
    mtcalarm: port.default(2122),
    /** SM query server and client ports; not in the shipped files, read by the code. */
    smServer: port.default(2124),
    smClient: port.default(2125),
  })
  .strict();

export const heartbeatSchema = z
  .object({
    periodMs: z.number().int().min(100, "heartbeat period must be 100..1000 ms").max(1000, "heartbeat period must be 100..1000 ms").default(100),
    minorThreshold: z.number().int().min(1).default(4),
    degradeThreshold: z.number().int().min(1).default(6),
    failureThreshold: z.number().int().min(2).default(10),
    failureAction: z.enum(["fail", "degrade", "alarm", "none"]).default("fail"),
    multicastGroup: z.string().default("239.1.1.2"),
    /** multicast as the reference; unicast fans the request out to every monitored host. */
    mode: z.enum(["multicast", "unicast"]).default("multicast"),
    clusterHostDegradeOnly: z.boolean().default(false),
    smHeartbeatLossMs: z.number().int().min(100).default(800),
    backoffFactor: z.number().int().min(1).default(4),
    /** Where the hbsAgent sends its alarm requests (mtcalarmd's UDP JSON, on ports.mtcalarm). */
    alarmAddress: ipv4OrV6.default("127.0.0.1"),
    /**
     * How the hbsClient sets PMOND_FLAG: from pmond's "I'm alive" pulses on loopback ports.pmonPulse (the
     * reference), or always/never on hosts that run no pmond (the lab, tests).
     */
    clientPmondFlag: z.enum(["pulses", "always", "never"]).default("pulses"),
    /** The hbsAgents (one per controller) the mtcAgent sends heartbeat commands to, on ports.hbsCmd. */
    agents: z
      .array(z.object({ hostname: z.string().min(1).max(64), address: ipv4OrV6 }).strict())
      .max(2)
      .default([]),
  })
  .strict()
  .refine((h) => h.degradeThreshold < h.failureThreshold, {
    message: "degradeThreshold must be less than failureThreshold",
    path: ["degradeThreshold"],
  });

export const timeoutsSchema = z
  .object({
    controllerBoot: seconds.default(1200),
    workerBoot: seconds.default(720),
    goenabled: seconds.default(600),
    hostServices: seconds.default(300),
    workQueue: seconds.default(200),
    swact: seconds.default(120),
    locRecovery: seconds.default(5),
    nodeReinstall: seconds.default(2400),
    dorModeDetect: seconds.default(1200),
    dorModeTimeout: seconds.default(1000),
    bmcResetDelay: seconds.default(300),
    lazyReboot: seconds.default(15),
    failsafeShutdown: seconds.default(120),
    hostAddDelay: seconds.default(20),
    podDrain: seconds.default(180),
    offlineThreshold: z.number().int().min(1).default(90),
    onlinePeriod: seconds.default(7),
    mnfa: seconds.default(0),
    cmdResponse: seconds.default(10),
    heartbeatSoak: seconds.default(11),
    mtcAlivePeriod: seconds.default(5),
    pxebootMonitorPeriod: seconds.default(10),
  })
  .strict();

const arCause = z.object({ threshold: z.number().int().min(0), interval: seconds }).strict();
export const autoRecoverySchema = z
  .object({
    config: arCause.default({ threshold: 2, interval: 30 }),
    goenable: arCause.default({ threshold: 2, interval: 30 }),
    hostservices: arCause.default({ threshold: 2, interval: 30 }),
    heartbeat: arCause.default({ threshold: 2, interval: 600 }),
    luks: arCause.default({ threshold: 2, interval: 30 }),
  })
  .strict();

/** Guest (VM) heartbeat: guestServer on workers, guestAgent on the controller (reference guest-heartbeat-and-bsp.md A.6, A.11-A.14). */
export const guestSchema = z
  .object({
    /** Where libvirt/QEMU creates `cgcs.heartbeat.<uuid>.sock`. */
    channelDir: z.string().min(1).default("/var/lib/libvirt/qemu"),
    server: z
      .object({
        /** Bind address of guestServer's UDP socket; defaults to networks.mgmt.address, else 127.0.0.1. */
        address: ipv4OrV6.optional(),
        /** guest.ini [client] rx_port. */
        port: port.default(2411),
        /** hbs_pulse_period: the minimum challenge interval; a guest asking for less is raised to it. */
        minIntervalMs: z.number().int().min(100).default(400),
        /** hbs_failure_threshold: loss when back-to-back misses exceed it (1: on the 2nd miss). */
        failureThreshold: z.number().int().min(1).default(1),
        /** Where guestAgent listens; defaults to networks.mgmt.controller, else 127.0.0.1. */
        agentAddress: ipv4OrV6.optional(),
        rescanSeconds: seconds.default(180),
        connectMaxSeconds: z.number().int().min(1).default(60),
        heartbeatStartSeconds: z.number().int().min(1).default(120),
        waitForInitSeconds: z.number().int().min(1).default(60),
        readyRetrySeconds: z.number().int().min(1).default(5),
      })
      .strict()
      .default({
        port: 2411,
        minIntervalMs: 400,
        failureThreshold: 1,
        rescanSeconds: 180,
        connectMaxSeconds: 60,
        heartbeatStartSeconds: 120,
        waitForInitSeconds: 60,
        readyRetrySeconds: 5,
      }),
    agent: z
      .object({
        /** Bind address of guestAgent's UDP socket (from guestServers); defaults to networks.mgmt.address, else 127.0.0.1. */
        address: ipv4OrV6.optional(),
        /** guest.ini [agent] rx_port. */
        port: port.default(2401),
        /** The VIM-facing HTTP API (guest.ini vim_cmd_port); loopback only in the original. */
        apiAddress: z.string().min(1).default("127.0.0.1"),
        apiPort: port.default(2410),
        /** The VIM's guest REST API ([guest-rest-api] in the VIM's config.ini). */
        vimUrl: z.string().url().default("http://127.0.0.1:30002"),
        vimTimeoutSeconds: z.number().int().min(1).default(20),
        vimRetries: z.number().int().min(0).max(10).default(3),
        auditSeconds: z.number().int().min(1).default(10),
        /** Hosts known without mtcAgent (labs, tests); mtcAgent's ADD_HOST on ports.guestCmd adds the rest. */
        hosts: z.array(z.object({ hostname: z.string().min(1).max(63), uuid: z.string().length(36), ip: ipv4OrV6 }).strict()).default([]),
      })
      .strict()
      .default({
        port: 2401,
        apiAddress: "127.0.0.1",
        apiPort: 2410,
        vimUrl: "http://127.0.0.1:30002",
        vimTimeoutSeconds: 20,
        vimRetries: 3,
        auditSeconds: 10,
        hosts: [],
      }),
  })
  .strict();

/**
 * Maintenance messaging (issue 3): mtcAlive, the agent inbox and the pxeboot monitor. The periods come from
 * `timeouts` (seconds, reference values); the optional millisecond overrides here let process tests and the
 * lab shorten them. `messagingTimers(config)` resolves the two.
 */
export const messagingSchema = z
  .object({
    /** Overrides timeouts.mtcAlivePeriod (MTC_ALIVE_TIMER, 5 s). */
    mtcAlivePeriodMs: z.number().int().min(10).optional(),
    /** The first mtcAlive goes out this long after client start (1 s). */
    firstMtcAliveMs: z.number().int().min(0).default(1000),
    /** The client re-sends its ready event this often (MTC_MINS_1). */
    readyEventPeriodMs: z.number().int().min(10).default(60_000),
    /** Overrides timeouts.pxebootMonitorPeriod (PXEBOOT_MTCALIVE_MONITOR_RATE_SECS, 10 s). */
    pxebootMonitorPeriodMs: z.number().int().min(10).optional(),
    /** PXEBOOT_MTCALIVE_LOSS_THRESHOLD misses make one loss; PXEBOOT_MTCALIVE_LOSS_ALARM_THRESHOLD losses raise 200.003. */
    pxebootLossThreshold: z.number().int().min(1).default(6),
    pxebootLossAlarmThreshold: z.number().int().min(1).default(2),
    /** Overrides timeouts.cmdResponse (MTC_CMD_RSP_TIMEOUT, 10 s): how long a command waits for its ACK. */
    cmdResponseTimeoutMs: z.number().int().min(10).optional(),
    /** MSGS_PER_SEC_THRESHOLD over a 60 s window. */
    rateLogThreshold: z.number().int().min(1).default(20),
    rateLogWindowMs: z.number().int().min(100).default(60_000),
    /**
     * The agent's cluster-host receive port. The reference binds the cluster-host socket on the mgmt port
     * (2101) at another address; tests on one loopback address give it a port of its own. Default: ports.agentMgmt.
     */
    agentClstrPort: port.optional(),
    /** How the client carries out a reboot: systemd (the real machine) or lab (a simulated reboot). */
    nodeActions: z.enum(["systemd", "lab"]).default("systemd"),
    /** dnsmasq's lease file on the pxeboot network: hosts' pxeboot addresses before their first pxeboot mtcAlive. */
    dnsmasqLeases: z.string().min(1).optional(),
    /** dnsmasq host files or configs with `dhcp-host=` lines (as `metal bsp dnsmasq` writes). */
    dnsmasqHosts: z.array(z.string().min(1)).default([]),
    /** The goenabled "recent pass" window: a request within it is answered without re-running (20 min). */
    goenabledRecentPassMs: z
      .number()
      .int()
      .min(0)
      .default(20 * 60_000),
  })
  .strict();

/** The messaging periods in milliseconds: the override when given, else the reference value from timeouts. */
export function messagingTimers(config: { timeouts: z.infer<typeof timeoutsSchema>; messaging: z.infer<typeof messagingSchema> }) {
  const m = config.messaging;
  return {
    mtcAlivePeriodMs: m.mtcAlivePeriodMs ?? config.timeouts.mtcAlivePeriod * 1000,
    firstMtcAliveMs: m.firstMtcAliveMs,
    readyEventPeriodMs: m.readyEventPeriodMs,
    pxebootMonitorPeriodMs: m.pxebootMonitorPeriodMs ?? config.timeouts.pxebootMonitorPeriod * 1000,
    cmdResponseTimeoutMs: m.cmdResponseTimeoutMs ?? config.timeouts.cmdResponse * 1000,
  };
}

/**
 * Control-plane security. `clusterKeyFile` (0600, hex keys one per line) turns on HMAC-SHA256 authentication and
 * replay protection for every UDP datagram metal sends and takes (transport/datagram-auth.ts, README
 * "Authenticated control traffic"); without it the daemons stay wire-compatible with the original C daemons.
 */
export const securitySchema = z
  .object({
    /** The cluster key file: first line signs, every line (at most 2, during a rotation) is accepted. */
    clusterKeyFile: z.string().min(1).optional(),
    /** Authenticated datagrams sent more than this long ago (or ahead, clock skew) are refused as replays. */
    replayWindowSeconds: z.number().int().min(1).max(3600).default(60),
    /**
     * Addresses commands are obeyed from, besides each network's `controller` (the other controller of a pair,
     * when it is not the floating address). The mtcClient and hbsClient drop commands from anywhere else.
     */
    controllers: z.array(ipv4OrV6).max(8).default([]),
    /**
     * Where BMC password files live. A host's `bmc.secretRef` must name a file in here (or a bare name, looked
     * up in here), mode 0600 or 0400, owned by the agent's user; refused at host-add otherwise.
     */
    secretsDir: z.string().min(1).optional(),
    /** Other directories (or files) secret files may be in, besides `secretsDir`. */
    allowSecretPaths: z.array(z.string().min(1).max(4096)).max(32).default([]),
  })
  .strict();

export const configSchema = z
  .object({
    /** Every path a daemon touches (/var/run, /var/persist, /etc/goenabled.d, ...) sits under this root. */
    root: z.string().min(1).default("/"),
    system: z
      .object({
        type: z.enum(["standard", "aio-sx", "aio-dx"]).default("standard"),
      })
      .strict()
      .default({ type: "standard" }),
    node: z
      .object({
        hostname: z
          .string()
          .regex(/^[a-z0-9]([a-z0-9-]{0,62})$/, "hostname: lower-case letters, digits and '-', at most 63")
          .default("controller-0"),
        subfunctions: z
          .array(z.enum(["controller", "worker", "storage", "lowlatency"]))
          .min(1)
          .default(["controller"]),
        mac: z
          .string()
          .regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, "mac: six colon-separated hex octets")
          .optional(),
      })
      .strict()
      .default({ hostname: "controller-0", subfunctions: ["controller"] }),
    networks: z
      .object({
        mgmt: networkSchema.default({}),
        clusterHost: networkSchema.optional(),
        pxeboot: networkSchema.optional(),
      })
      .strict()
      .default({ mgmt: {} }),
    ports: portsSchema.default(portsSchema.parse({})),
    heartbeat: heartbeatSchema.default(heartbeatSchema.parse({})),
    timeouts: timeoutsSchema.default(timeoutsSchema.parse({})),
    autoRecovery: autoRecoverySchema.default(autoRecoverySchema.parse({})),
    messaging: messagingSchema.default(messagingSchema.parse({})),
    mnfa: z
      .object({ threshold: z.number().int().min(1).default(2) })
      .strict()
      .default({ threshold: 2 }),
    api: z
      .object({
        address: z.string().default("127.0.0.1"),
        port: port.default(2112),
        /** Bearer token required for mutations; a file path keeps it out of the config. */
        tokenFile: z.string().optional(),
        /** A non-loopback `address` is refused at start unless this says so explicitly. */
        allowRemote: z.boolean().default(false),
      })
      .strict()
      .default({ address: "127.0.0.1", port: 2112, allowRemote: false }),
    /** mtcAgent (issue 4): scheduler period, where the inventory/alarms live, alarm sinks, SM. */
    maintenance: z
      .object({
        /** Scheduler pass period (the original's main loop runs every 5 ms; handlers use their own timers). */
        tickMs: z.number().int().min(1).max(1000).default(50),
        /** power_off_retry_wait (reference §2.11). */
        powerOffRetryWait: seconds.default(30),
        /** Inventory and alarm state; default <root>/var/lib/metal. */
        stateDir: z.string().min(1).optional(),
        /** Append-only alarm history (JSON lines); default <stateDir>/alarm-history.jsonl. */
        alarmHistory: z.string().min(1).optional(),
        /** SNMP v2c trap receivers for alarm changes. */
        snmpTraps: z
          .array(z.object({ address: z.string().min(1), port: port.default(162), community: z.string().min(1).max(64).default("public") }).strict())
          .default([]),
        /** SM REST base URL (`http://localhost:<ha_port>`); absent → a simulated SM (lab). */
        smUrl: z.string().url().optional(),
        /** Periodic alarm audit (oos_test_period). */
        alarmAuditPeriod: seconds.default(300),
        /** Run hwmon (sensor monitoring, settings in `hwmon`) for every host whose BMC reads sensors. */
        hwmon: z.boolean().default(true),
      })
      .strict()
      .default({ tickMs: 50, powerOffRetryWait: 30, snmpTraps: [], alarmAuditPeriod: 300, hwmon: true }),
    logging: z
      .object({
        level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
        pretty: z.boolean().default(false),
      })
      .strict()
      .default({ level: "info", pretty: false }),
    guest: guestSchema.default(guestSchema.parse({})),
    bmc: bmcSchema.default(bmcSchema.parse({})),
    hwmon: hwmonSchema.default(hwmonSchema.parse({})),
    /** pmond and hostwd (issue 13). */
    pmon: pmonSchema.default(pmonSchema.parse({})),
    /** The inventory engine and the controller pair (issue 12). */
    store: storeSchema.default(storeSchema.parse({})),
    ha: haSchema.default(haSchema.parse({})),
    plugins: z
      .object({
        /** Look for plugins in the workspace and node_modules. */
        discover: z.boolean().default(true),
        /**
         * Package names or directories to load in addition (or instead, with discover: false). A directory
         * (absolute, or starting with ".") is relative to the config file's directory.
         */
        load: z.array(z.string().min(1)).default([]),
        /**
         * Directories a package name in `load` is looked up from (their node_modules, and their parents', as node
         * does), before the current directory, NODE_PATH and the workspace. Relative to the config file, whose
         * own directory is always searched first.
         */
        paths: z.array(z.string().min(1)).default([]),
        /** Per-plugin settings, keyed by package name, handed to register(). */
        settings: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
      })
      .strict()
      .default({ discover: true, load: [], paths: [], settings: {} }),
    security: securitySchema.default({ replayWindowSeconds: 60, controllers: [], allowSecretPaths: [] }),
  })
  .strict();

export type MetalConfig = z.infer<typeof configSchema>;
export type MetalConfigInput = z.input<typeof configSchema>;
