import type { Command } from "commander";
import { type HandlerDef, toMermaid } from "../../fsm/engine.js";
import { HANDLERS } from "../../fsm/handlers.js";
import { electionHandler } from "../../ha/election.js";
import { CliError } from "../errors.js";
import { type OutputOptions, printList, withOutputOptions } from "../output.js";

/** `metal fsm list` / `metal fsm show NAME`: the maintenance handlers as Mermaid state diagrams. */
export function fsmCommand(program: Command): void {
  // The per-host handlers, then the machines of other contexts on the same engine (the HA election).
  const all = new Map<string, HandlerDef<never>>([...HANDLERS, [electionHandler.name, electionHandler]] as Array<[string, HandlerDef<never>]>);
  const fsm = program.command("fsm").description("the maintenance state machines");
  withOutputOptions(fsm.command("list").description("list the handlers")).action((opts: OutputOptions) => {
    const rows = [...all.values()].map((h) => ({ name: h.name, stages: h.stages.length, description: h.description }));
    printList(opts, rows, ["name", "stages", "description"]);
  });
  fsm
    .command("show <name>")
    .description("print a handler as a Mermaid state diagram")
    .action((name: string) => {
      const h = all.get(name);
      if (!h) throw new CliError(`no handler named '${name}' (known: ${[...all.keys()].join(", ")})`);
      process.stdout.write(toMermaid(h));
    });
}
