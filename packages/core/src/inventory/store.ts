/**
 * A host as maintenance keeps it. Field names follow the sysinv JSON keys of the reference
 * (hostname, personality, subfunctions, administrative/operational/availability, task, ...).
 */
export interface HostRecord {
  hostname: string;
  personality: "controller" | "worker" | "storage";
  subfunctions: string[];
  mgmtIp?: string;
  mgmtMac?: string;
  clusterHostIp?: string;
  pxebootIp?: string;
  administrative: "locked" | "unlocked";
  operational: "enabled" | "disabled";
  availability: string;
  subfunctionOper?: "enabled" | "disabled";
  subfunctionAvail?: string;
  action: string;
  task: string;
  uptime: number;
  degradeMask: number;
  /** secretRef: the 0600 file with the password (never the password itself); port: a non-standard BMC port. */
  bmc?: { type: string; address: string; username: string; port?: number; secretRef?: string; learned?: string };
  autoRecovery?: Record<string, { count: number; disabled: boolean }>;
  /** Free-form maintenance info persisted with the host (mtce_info). */
  mtceInfo?: Record<string, unknown>;
}

/** Durable host inventory: survives kill -9 during a write (write-temp, fsync, rename). */
export interface InventoryStore {
  load(): Promise<HostRecord[]>;
  save(host: HostRecord): Promise<void>;
  remove(hostname: string): Promise<void>;
}
