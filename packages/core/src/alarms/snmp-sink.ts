import snmp from "net-snmp";
import type { AlarmRecord, AlarmSink } from "./sink.js";

/**
 * SNMP v2c traps for alarm changes (the role FM's trap agent plays in the original; reference §7 notes the
 * maintenance code itself has no SNMP). Enterprise subtree 1.3.6.1.4.1.731.1.1 follows the StarlingX FM
 * alarm MIB's layout: .1 alarm id, .2 "<id> <host> <severity>" summary, .3 entity id, .4 severity,
 * .5 text, .6 operation. Trap OIDs: .0.1 set, .0.2 clear, .0.3 message.
 */
export const ALARM_TRAP_BASE = "1.3.6.1.4.1.731.1.1";

export interface SnmpTarget {
  address: string;
  port: number;
  community: string;
}

export class SnmpTrapSink implements AlarmSink {
  readonly name = "snmp";
  private readonly session: snmp.Session;

  constructor(target: SnmpTarget) {
    this.session = snmp.createSession(target.address, target.community, {
      version: snmp.Version2c,
      trapPort: target.port,
      transport: target.address.includes(":") ? "udp6" : "udp4",
    });
    // A closed or unreachable trap receiver must never take the agent down.
    this.session.on("error", () => undefined);
  }

  deliver(r: AlarmRecord): Promise<void> {
    const str = (oid: string, value: string) => ({ oid: `${ALARM_TRAP_BASE}.${oid}`, type: snmp.ObjectType.OctetString, value });
    const varbinds = [
      str("1.0", r.id),
      str("2.0", `${r.id} ${r.hostname} ${r.severity}`),
      str("3.0", r.entity ? `host=${r.hostname}.${r.entity}` : `host=${r.hostname}`),
      str("4.0", r.severity),
      str("5.0", r.text.slice(0, 255)),
      str("6.0", r.operation),
    ];
    const trapOid = `${ALARM_TRAP_BASE}.0.${r.operation === "set" ? 1 : r.operation === "clear" ? 2 : 3}`;
    return new Promise((resolve, reject) => {
      this.session.trap(trapOid, varbinds, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.session.close();
  }
}
