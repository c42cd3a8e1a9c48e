/**
 * The hbsAgent's alarms (reference mtce-core.md §7, hbsAlarm.h): 200.005 management heartbeat, 200.009
 * cluster-host heartbeat (major at degrade, critical at failure), 200.006 "pmond" missing from the heartbeat.
 */
import type { AlarmManager } from "../alarms/alarm-manager.js";
import type { HbsNetwork } from "./hbs-messages.js";
import type { HbsAlarmSeverity } from "./miss-counting.js";

export const HbsAlarmId = { mgmt: "200.005", clusterHost: "200.009", pmond: "200.006" } as const;
export const HBS_ALARM_ENTITY: Readonly<Record<HbsNetwork, string>> = { mgmt: "Management", clusterHost: "Cluster-host" };
const NETWORK_TEXT: Readonly<Record<HbsNetwork, string>> = { mgmt: "Management", clusterHost: "Cluster-host" };

export class HbsAlarms {
  constructor(private readonly alarms: AlarmManager) {}

  heartbeat(hostname: string, network: HbsNetwork, severity: HbsAlarmSeverity): void {
    const id = HbsAlarmId[network];
    const entity = HBS_ALARM_ENTITY[network];
    if (severity === "clear") {
      this.alarms.clear(id, hostname, entity);
      return;
    }
    const text =
      severity === "critical"
        ? `${hostname} experienced a persistent critical '${NETWORK_TEXT[network]} Network' communication failure.`
        : `${hostname} is experiencing intermittent '${NETWORK_TEXT[network]} Network' heartbeat failures.`;
    this.alarms.raise({ id, hostname, severity, entity, text });
  }

  pmond(hostname: string, raise: boolean): void {
    if (raise) {
      this.alarms.raise({
        id: HbsAlarmId.pmond,
        hostname,
        severity: "major",
        entity: "pmond",
        text: `${hostname} is degraded due to the failure of its 'pmond' process.`,
      });
    } else {
      this.alarms.clear(HbsAlarmId.pmond, hostname, "pmond");
    }
  }

  clearAll(hostname: string): void {
    this.alarms.clear(HbsAlarmId.mgmt, hostname, HBS_ALARM_ENTITY.mgmt);
    this.alarms.clear(HbsAlarmId.clusterHost, hostname, HBS_ALARM_ENTITY.clusterHost);
    this.alarms.clear(HbsAlarmId.pmond, hostname, "pmond");
  }
}
