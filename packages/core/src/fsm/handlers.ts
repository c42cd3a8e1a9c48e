import { addHandler } from "./add.js";
import { deleteHandler } from "./delete.js";
import { disableHandler } from "./disable.js";
import { enableHandler } from "./enable.js";
import type { HandlerDef } from "./engine.js";
import type { HostCtx } from "./host-context.js";
import { powerHandler } from "./power.js";
import { powercycleHandler } from "./powercycle.js";
import { rebootHandler } from "./reboot.js";
import { recoveryHandler } from "./recovery.js";
import { reinstallHandler } from "./reinstall.js";
import { resetHandler } from "./reset.js";
import { resetProgression } from "./reset-progression.js";
import { subfEnableHandler } from "./subf-enable.js";
import { swactHandler } from "./swact.js";

/** Every handler by name, for the dispatcher and `metal fsm show NAME`. */
export const HANDLERS: ReadonlyMap<string, HandlerDef<HostCtx>> = new Map(
  [
    addHandler,
    enableHandler,
    disableHandler,
    recoveryHandler,
    resetProgression,
    rebootHandler,
    resetHandler,
    powerHandler,
    powercycleHandler,
    reinstallHandler,
    swactHandler,
    deleteHandler,
    subfEnableHandler,
  ].map((h) => [h.name, h]),
);
