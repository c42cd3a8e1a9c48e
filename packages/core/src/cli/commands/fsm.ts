import type { Command } from "commander";
import { toMermaid } from "../../fsm/engine.js";
import { HANDLERS } from "../../fsm/handlers.js";
import { CliError } from "../errors.js";
import { type OutputOptions, printList, withOutputOptions } from "../output.js";

/** `metal fsm list` / `metal fsm show NAME`: the maintenance handlers as Mermaid state diagrams. */
export function fsmCommand(program: Command): void {
  const fsm = program.command("fsm").description("the maintenance state machines");
  withOutputOptions(fsm.command("list").description("list the handlers")).action((opts: OutputOptions) => {
    const rows = [...HANDLERS.values()].map((h) => ({ name: h.name, stages: h.stages.length, description: h.description }));
    printList(opts, rows, ["name", "stages", "description"]);
  });
  fsm
    .command("show <name>")
    .description("print a handler as a Mermaid state diagram")
    .action((name: string) => {
      const h = HANDLERS.get(name);
      if (!h) throw new CliError(`no handler named '${name}' (known: ${[...HANDLERS.keys()].join(", ")})`);
      process.stdout.write(toMermaid(h));
    });
}
