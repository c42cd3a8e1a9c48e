import type { NetworkName } from "../transport/transport.js";

/**
 * The seams between the maintenance FSMs and the rest of the agent. The FSMs (core/src/fsm) speak only
 * these interfaces; the real implementations ride on the 1060-byte mtc message over UDP
 * (agent/messaging for hosts, heartbeat/ for hbsAgent), and tests plug in fakes.
 */

/** Agent → mtcClient commands, by the reference's meaning (the messaging layer maps them to MtcCmd codes). */
export type HostCommand =
  | "loopback"
  | "reboot"
  | "wipedisk"
  | "reset"
  | "reqMtcAlive"
  | "reqMainGoenabled"
  | "reqSubfGoenabled"
  | "subfGoenabledFailed"
  | "locked"
  | "unlocked"
  | "stopControlServices"
  | "stopWorkerServices"
  | "stopStorageServices"
  | "startControlServices"
  | "startWorkerServices"
  | "startStorageServices"
  | "lazyReboot"
  | "info"
  | "sync";

export interface HostCommandOptions {
  /** Default: mgmt. "all" sends on every provisioned network (reset progression). */
  network?: NetworkName | "all";
  parms?: number[];
  /** Extra JSON merged into the command buffer. */
  payload?: Record<string, unknown>;
  /** Wait for the client's ACK (default true for commands the client ACKs). */
  expectAck?: boolean;
  /** ACK timeout; default MTC_CMD_RSP_TIMEOUT (10 s). */
  timeoutMs?: number;
}

/** What the client told the agent, decoded and attributed to a known host. */
export type HostMessage =
  | {
      kind: "mtcAlive";
      hostname: string;
      network: NetworkName;
      address: string;
      uptime: number;
      /** The flag bitmask of reference §4. */
      flags: number;
      health: number;
      sequence: number;
      mac?: string;
      /** From the mtcAlive JSON: the subfunctions string ("controller,worker") and the addresses the host reports. */
      personality?: string;
      clusterHostIp?: string;
      pxebootIp?: string;
    }
  | { kind: "goenabled"; hostname: string; subfunction: boolean; passed: boolean; text?: string }
  | { kind: "hostServicesResult"; hostname: string; rc: number; text: string }
  | { kind: "monitorReady"; hostname: string; service: string; payload: Record<string, unknown> }
  | { kind: "event"; hostname: string; code: number; service: string; payload: Record<string, unknown> }
  /** pxeboot mtcAlive loss (6 misses) and recovery, from the inbox's pxeboot monitor. */
  | { kind: "pxebootLoss" | "pxebootRecovered"; hostname: string };

export interface HostMessaging {
  /** Send a command; resolves with the ACK's rc (parm[0]) or undefined when no ACK is expected. Rejects on ACK timeout. */
  command(hostname: string, command: HostCommand, options?: HostCommandOptions): Promise<number | undefined>;
  onMessage(listener: (m: HostMessage) => void): () => void;
}

/** hbsAgent → mtcAgent events (MTC_EVENT_HEARTBEAT_*, PMOND_*), per host and heartbeat network. */
export type HeartbeatEvent = {
  kind: "ready" | "minorSet" | "minorClear" | "degradeSet" | "degradeClear" | "loss" | "pmondRaise" | "pmondClear";
  hostname: string;
  network: "mgmt" | "clusterHost";
  /** The controller whose hbsAgent sent it (only the active one's events are acted on). */
  from: string;
};

export interface HeartbeatHost {
  hostname: string;
  mgmtIp: string;
  clusterHostIp?: string;
  /** NODE_TYPE_MASK bits. */
  nodeType: number;
}

/** mtcAgent → hbsAgent control (MTC_CMD_ADD/DEL/START/STOP_HOST, BACKOFF/RECOVER_HBS, ACTIVE_CTRL). */
export interface HeartbeatControl {
  addHost(host: HeartbeatHost): void;
  delHost(hostname: string): void;
  startHost(hostname: string): void;
  stopHost(hostname: string): void;
  /** MNFA: period × backoff factor. */
  backoff(): void;
  recover(): void;
  activeController(hostname: string): void;
  onEvent(listener: (e: HeartbeatEvent) => void): () => void;
}
