import type { Command } from "commander";
import { agentCommand } from "./agent.js";
import { alarmListCommand } from "./alarm-list.js";
import { bmcCommand } from "./bmc.js";
import { clientCommand } from "./client.js";
import { configCommand } from "./config.js";
import { consoleCommand } from "./console.js";
import { eventsCommand } from "./events.js";
import { fsmCommand } from "./fsm.js";
import { haCommand } from "./ha.js";
import { hbsCommand } from "./hbs.js";
import { hostAddCommand } from "./host-add.js";
import { hostDeleteCommand } from "./host-delete.js";
import { hostListCommand } from "./host-list.js";
import { hostLockCommand } from "./host-lock.js";
import { hostPowerOffCommand } from "./host-power-off.js";
import { hostPowerOnCommand } from "./host-power-on.js";
import { hostRebootCommand } from "./host-reboot.js";
import { hostReinstallCommand } from "./host-reinstall.js";
import { hostResetCommand } from "./host-reset.js";
import { hostShowCommand } from "./host-show.js";
import { hostSwactCommand } from "./host-swact.js";
import { hostUnlockCommand } from "./host-unlock.js";
import { hostUpdateCommand } from "./host-update.js";
import { labCommand } from "./lab.js";
import { pluginsCommand } from "./plugins.js";
import { pmonCommand } from "./pmon.js";
import { storeCommand } from "./store.js";
import { wireCommand } from "./wire.js";

/** Every core command. Add one line per command file. */
export const coreCommands: ReadonlyArray<(program: Command) => void> = [
  pluginsCommand,
  configCommand,
  labCommand,
  clientCommand,
  wireCommand,
  hbsCommand,
  agentCommand,
  hostListCommand,
  hostShowCommand,
  hostAddCommand,
  hostUpdateCommand,
  hostLockCommand,
  hostUnlockCommand,
  hostRebootCommand,
  hostResetCommand,
  hostReinstallCommand,
  hostPowerOnCommand,
  hostPowerOffCommand,
  hostSwactCommand,
  hostDeleteCommand,
  alarmListCommand,
  eventsCommand,
  fsmCommand,
  bmcCommand,
  consoleCommand,
  pmonCommand,
  haCommand,
  storeCommand,
];
