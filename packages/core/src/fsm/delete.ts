import { done, END, goto, type HandlerDef } from "./engine.js";
import type { HostCtx } from "./host-context.js";

/** Delete (reference §2.15): wipe the disk, drop heartbeat, BMC and alarms, remove the host. */
export const deleteHandler: HandlerDef<HostCtx> = {
  name: "delete",
  description: "remove a locked host from maintenance",
  stages: [
    {
      name: "START",
      run: (c) => {
        c.env.alarms.log("200.021", c.name, `${c.name} delete`);
        c.setTask("Deleting");
        c.send("wipedisk", { network: "mgmt", expectAck: false });
        c.env.heartbeat.stopHost(c.name);
        c.env.heartbeat.delHost(c.name);
        return goto("WAIT");
      },
      next: [["WAIT"]],
    },
    {
      name: "WAIT",
      run: (c) => {
        const bmc = c.bmc();
        if (bmc) void bmc.close();
        c.env.alarms.clearHost(c.name);
        return goto("DONE");
      },
      next: [["DONE"]],
    },
    {
      name: "DONE",
      run: (c) => {
        c.env.removeHost(c.name);
        return done("pass");
      },
      next: [[END]],
    },
  ],
};
