import test from "ava";
import { Command } from "commander";
import { coreCommandModules } from "../src/cli/commands/index.js";

test("each lazily loaded command module registers exactly the top-level names its entry declares, and no name is claimed twice", async (t) => {
  const seen = new Map<string, number>();
  for (const [i, m] of coreCommandModules.entries()) {
    const program = new Command("metal");
    (await m.load())(program);
    t.deepEqual(program.commands.map((c) => c.name()).sort(), [...m.names].sort(), `entry ${i} (${m.names.join(", ")})`);
    for (const n of m.names) {
      t.false(seen.has(n), `${n} is declared by entries ${seen.get(n)} and ${i}`);
      seen.set(n, i);
    }
  }
});
