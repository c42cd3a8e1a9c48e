import type { Command } from "commander";

/**
 * Every core command, loaded only when asked for: `metal client` imports the client's modules and not the
 * lab's, the API server's or etcd's (an eager import of every command cost ~1.6 s of CPU per start, which a
 * loaded machine turns into many seconds for each daemon and CLI call). `names` are the top-level command
 * names the module's function registers; `metal --help` and unknown names load them all. Add one entry per
 * command file; the cli-lazy test checks the names against what each module registers.
 */
export interface CoreCommandModule {
  readonly names: readonly string[];
  readonly load: () => Promise<(program: Command) => void>;
}

export const coreCommandModules: readonly CoreCommandModule[] = [
  { names: ["plugins"], load: async () => (await import("./plugins.js")).pluginsCommand },
  { names: ["config"], load: async () => (await import("./config.js")).configCommand },
  { names: ["lab"], load: async () => (await import("./lab.js")).labCommand },
  { names: ["client"], load: async () => (await import("./client.js")).clientCommand },
  { names: ["node"], load: async () => (await import("./node.js")).nodeCommand },
  { names: ["wire"], load: async () => (await import("./wire.js")).wireCommand },
  { names: ["hbs-agent", "hbs-client", "hbs"], load: async () => (await import("./hbs.js")).hbsCommand },
  { names: ["agent"], load: async () => (await import("./agent.js")).agentCommand },
  { names: ["host-list"], load: async () => (await import("./host-list.js")).hostListCommand },
  { names: ["host-show"], load: async () => (await import("./host-show.js")).hostShowCommand },
  { names: ["host-add"], load: async () => (await import("./host-add.js")).hostAddCommand },
  { names: ["host-update"], load: async () => (await import("./host-update.js")).hostUpdateCommand },
  { names: ["host-lock"], load: async () => (await import("./host-lock.js")).hostLockCommand },
  { names: ["host-unlock"], load: async () => (await import("./host-unlock.js")).hostUnlockCommand },
  { names: ["host-reboot"], load: async () => (await import("./host-reboot.js")).hostRebootCommand },
  { names: ["host-reset"], load: async () => (await import("./host-reset.js")).hostResetCommand },
  { names: ["host-reinstall"], load: async () => (await import("./host-reinstall.js")).hostReinstallCommand },
  { names: ["host-power-on"], load: async () => (await import("./host-power-on.js")).hostPowerOnCommand },
  { names: ["host-power-off"], load: async () => (await import("./host-power-off.js")).hostPowerOffCommand },
  { names: ["host-swact"], load: async () => (await import("./host-swact.js")).hostSwactCommand },
  { names: ["host-delete"], load: async () => (await import("./host-delete.js")).hostDeleteCommand },
  { names: ["alarm-list"], load: async () => (await import("./alarm-list.js")).alarmListCommand },
  { names: ["events"], load: async () => (await import("./events.js")).eventsCommand },
  { names: ["fsm"], load: async () => (await import("./fsm.js")).fsmCommand },
  { names: ["bmc"], load: async () => (await import("./bmc.js")).bmcCommand },
  { names: ["console"], load: async () => (await import("./console.js")).consoleCommand },
  { names: ["pmon", "hostwd"], load: async () => (await import("./pmon.js")).pmonCommand },
  { names: ["ha"], load: async () => (await import("./ha.js")).haCommand },
  { names: ["store"], load: async () => (await import("./store.js")).storeCommand },
];
