import type { AlarmSeverity } from "./alarm-manager.js";

/** The 200.xxx maintenance alarms of reference §7, with the severities each may carry. */
export interface AlarmDefinition {
  id: string;
  name: string;
  severities: readonly AlarmSeverity[];
  /** Logs (200.020-200.024) are events, never kept as active alarms. */
  kind: "alarm" | "log";
  serviceAffecting: boolean;
  repair: string;
}

const def = (
  id: string,
  name: string,
  severities: AlarmSeverity[],
  repair: string,
  serviceAffecting = true,
  kind: "alarm" | "log" = "alarm",
): AlarmDefinition => ({
  id,
  name,
  severities,
  kind,
  serviceAffecting,
  repair,
});

export const ALARMS = {
  lock: def("200.001", "Host locked", ["warning"], "Unlock the host", false),
  pxebootMtcAlive: def("200.003", "pxeboot network communication failure", ["minor"], "Check the pxeboot network of the host", false),
  enable: def("200.004", "Host enable / in-service failure", ["major", "critical"], "Lock and unlock the host, or reinstall"),
  mgmtHeartbeat: def("200.005", "Management network heartbeat", ["major", "critical"], "Check the host's management network"),
  process: def("200.006", "Process failure", ["minor", "major", "critical"], "Check the process on the host"),
  sensor: def("200.007", "Sensor", ["minor", "major", "critical"], "Check the host's hardware sensors"),
  clusterHeartbeat: def("200.009", "Cluster-host network heartbeat", ["major", "critical"], "Check the host's cluster-host network"),
  bmcAccess: def("200.010", "Board management access failure", ["warning"], "Check the BMC address, credentials and network", false),
  config: def("200.011", "Configuration failure", ["critical"], "Lock and unlock the host"),
  subfunction: def("200.013", "AIO compute subfunction failure", ["major", "critical"], "Lock and unlock the host"),
  sensorConfig: def("200.014", "Sensor configuration", ["major"], "Check the sensor configuration", false),
  sensorGroup: def("200.015", "Sensor group read failure", ["major"], "Check the BMC", false),
  luks: def("200.016", "LUKS volume failure", ["critical"], "Check the encrypted volume"),
  eventLog: def("200.020", "Maintenance event", ["warning"], "", false, "log"),
  commandLog: def("200.021", "Maintenance command", ["warning"], "", false, "log"),
  stateLog: def("200.022", "Host state change", ["warning"], "", false, "log"),
  serviceLog: def("200.023", "Service status", ["warning"], "", false, "log"),
  configLog: def("200.024", "Configuration change", ["warning"], "", false, "log"),
} as const;

const BY_ID = new Map<string, AlarmDefinition>(Object.values(ALARMS).map((d) => [d.id, d]));

export function alarmDefinition(id: string): AlarmDefinition | undefined {
  return BY_ID.get(id);
}

/** FM entity instance id: `host=<hostname>[.<entity>]` (reference §7). */
export function entityId(hostname: string, entity?: string): string {
  return entity ? `host=${hostname}.${entity}` : `host=${hostname}`;
}
