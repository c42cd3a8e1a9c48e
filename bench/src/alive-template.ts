import { encodeMtcMessage, MtcFlag, mtcAliveMessage } from "@metal/core";

/** Host i's mtcAlive on mgmt as a healthy, configured worker sends it (the inbox benches' traffic). */
export function aliveTemplate(i: number, sequence: number, mgmtIp: string): Buffer {
  return Buffer.from(
    encodeMtcMessage(
      mtcAliveMessage({
        uptime: 1000 + i,
        health: 1,
        flags: MtcFlag.I_AM_CONFIGURED | MtcFlag.I_AM_HEALTHY | MtcFlag.MAIN_GOENABLED,
        sequence,
        payload: { hostname: `worker-${i}`, personality: "worker", mgmt_ip: mgmtIp, mgmt_mac: "52:54:00:00:00:01", interface: "Mgmnt", sequence },
      }),
    ),
  );
}
