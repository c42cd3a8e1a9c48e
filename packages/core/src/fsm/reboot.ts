import { bump, holdThenClearTask, SEC } from "./common.js";
import { done, END, goto, type HandlerDef, stay } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { beginResetProgression, stepResetProgression } from "./reset-progression.js";

/**
 * Admin reboot (reference §2.9 reboot_handler): self → lazy reboot; other hosts → a reset progression with no
 * progression retries, and up to 5 handler retries ("Reboot Failed, retrying (n of 5)").
 */
const MAX_RETRIES = 5;

export const rebootHandler: HandlerDef<HostCtx> = {
  name: "reboot",
  description: "admin reboot of a (locked) host",
  stages: [
    {
      name: "START",
      run: (c) => {
        c.env.alarms.log("200.021", c.name, `${c.name} manual reboot`);
        c.vars.tries = 0;
        if (c.isSelf) {
          c.send("lazyReboot", { parms: [c.cfg.timeouts.lazyReboot], expectAck: false });
          c.setTask("Rebooting");
          return goto("WAIT");
        }
        return goto("REBOOT");
      },
      next: [["REBOOT"], ["WAIT", "self: lazy reboot"]],
    },
    {
      name: "REBOOT",
      run: (c) => {
        c.setTask("Rebooting");
        beginResetProgression(c, 0, false);
        return goto("REBOOT_WAIT");
      },
      next: [["REBOOT_WAIT"]],
    },
    {
      name: "REBOOT_WAIT",
      run: (c) => {
        const r = stepResetProgression(c);
        if (r === undefined) return stay;
        if (r === "pass") {
          c.setAction("none");
          holdThenClearTask(c, "Rebooting");
          return done("pass");
        }
        return goto("FAIL");
      },
      next: [
        ["FAIL", "progression failed"],
        [END, "host went down"],
      ],
    },
    {
      name: "FAIL",
      run: (c) => {
        const tries = bump(c, "tries");
        if (tries <= MAX_RETRIES) {
          c.setTask(`Reboot Failed, retrying (${tries} of ${MAX_RETRIES})`);
          return goto("REBOOT");
        }
        c.setTask("Reboot Failed, try again when host is 'online'");
        c.setAction("none");
        return done("fail");
      },
      next: [
        ["REBOOT", "retry"],
        [END, "5 retries failed"],
      ],
    },
    {
      name: "WAIT",
      timeoutMs: () => 120 * SEC,
      run: () => stay,
      onTimeout: (c) => {
        c.setAction("none");
        return done("pass");
      },
      next: [[END, "LAZY_REBOOT_RETRY_DELAY"]],
    },
  ],
};
