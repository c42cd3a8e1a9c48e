/**
 * The stage-machine engine (reference §2, behaviour 1): a handler is a list of named stages; each stage is a
 * small function the scheduler calls on every pass until it moves on. Stages never block: work that takes
 * time (a command's ACK, a BMC call) is launched and its outcome polled in a later stage or pass. Every
 * transition must be declared in the stage's `next` list, so the diagram `metal fsm show` prints is the
 * machine that runs.
 */

/** What a stage returns: stay here (undefined), go to another stage, or finish the handler. */
export type Step = undefined | { goto: string } | { done: "pass" | "fail" };

export const stay: Step = undefined;
export const goto = (stage: string): Step => ({ goto: stage });
export const done = (result: "pass" | "fail" = "pass"): Step => ({ done: result });

export interface StageDef<C> {
  readonly name: string;
  /** Time allowed in this stage (ms); when it runs out, `onTimeout` decides. */
  readonly timeoutMs?: (c: C) => number;
  run(c: C): Step | Promise<Step>;
  onTimeout?(c: C): Step | Promise<Step>;
  /** Declared transitions, with a label for the diagram. `END` ends the handler. */
  readonly next: ReadonlyArray<readonly [string, string?]>;
}

export interface HandlerDef<C> {
  readonly name: string;
  readonly description: string;
  readonly stages: ReadonlyArray<StageDef<C>>;
}

/** The end marker in `next` lists (reference stage names include DONE, so the engine uses its own). */
export const END = "END";

/** Where one host is in one handler. */
export interface RunState {
  handler: string;
  stage: string;
  enteredAt: number;
  /** A stage promise is in flight; the scheduler skips this host until it settles. */
  busy: boolean;
  /** Bumped on every (re)start so a late promise from an abandoned run is ignored. */
  epoch: number;
  result?: "pass" | "fail";
}

/** Holds one run; a host is one, and a handler may hold a sub-machine (reset progression) in another. */
export interface RunHolder {
  run?: RunState;
}

export interface EngineHost extends RunHolder {
  now(): number;
  onStage?(handler: string, from: string, to: string): void;
  onError?(handler: string, stage: string, err: unknown): void;
  onStart?(handler: string): void;
}

const compiled = new WeakMap<HandlerDef<unknown>, Map<string, StageDef<unknown>>>();

function stagesOf<C>(h: HandlerDef<C>): Map<string, StageDef<C>> {
  let m = compiled.get(h as HandlerDef<unknown>) as Map<string, StageDef<C>> | undefined;
  if (!m) {
    m = new Map(h.stages.map((s) => [s.name, s]));
    compiled.set(h as HandlerDef<unknown>, m as Map<string, StageDef<unknown>>);
  }
  return m;
}

/** Start (or restart) `handler` at its first stage. */
export function startHandler<C extends EngineHost>(c: C, handler: HandlerDef<C>, holder: RunHolder = c): void {
  const first = handler.stages[0];
  if (!first) throw new Error(`handler ${handler.name} has no stages`);
  holder.run = { handler: handler.name, stage: first.name, enteredAt: c.now(), busy: false, epoch: (holder.run?.epoch ?? 0) + 1 };
  if (holder === c) c.onStart?.(handler.name);
}

/**
 * Step `c` once in `handler` (starting it if another handler or none was running). Returns true when the
 * handler finished in this step (its result is in `c.run.result`).
 */
export function stepHandler<C extends EngineHost>(c: C, handler: HandlerDef<C>, holder: RunHolder = c): boolean {
  if (!holder.run || holder.run.handler !== handler.name || holder.run.result) startHandler(c, handler, holder);
  const run = holder.run as RunState;
  if (run.busy) return false;
  const stage = stagesOf(handler).get(run.stage);
  if (!stage) {
    c.onError?.(handler.name, run.stage, new Error(`unknown stage ${run.stage}`));
    run.result = "fail";
    return true;
  }
  const timedOut = stage.timeoutMs !== undefined && c.now() - run.enteredAt >= stage.timeoutMs(c);
  let step: Step | Promise<Step>;
  try {
    step = timedOut && stage.onTimeout ? stage.onTimeout(c) : stage.run(c);
  } catch (err) {
    c.onError?.(handler.name, stage.name, err);
    run.result = "fail";
    return true;
  }
  if (step instanceof Promise) {
    run.busy = true;
    const epoch = run.epoch;
    step.then(
      (s) => {
        if (holder.run !== run || run.epoch !== epoch) return;
        run.busy = false;
        apply(c, handler, stage, s, run);
      },
      (err: unknown) => {
        if (holder.run !== run || run.epoch !== epoch) return;
        run.busy = false;
        c.onError?.(handler.name, stage.name, err);
        run.result = "fail";
      },
    );
    return false;
  }
  return apply(c, handler, stage, step, run);
}

function apply<C extends EngineHost>(c: C, handler: HandlerDef<C>, stage: StageDef<C>, step: Step, run: RunState): boolean {
  if (step === undefined) return false;
  if ("done" in step) {
    if (!stage.next.some(([n]) => n === END)) {
      c.onError?.(handler.name, stage.name, new Error(`stage ${stage.name} may not finish the handler (undeclared transition)`));
      run.result = "fail";
      return true;
    }
    run.result = step.done;
    c.onStage?.(handler.name, stage.name, END);
    return true;
  }
  if (!stage.next.some(([n]) => n === step.goto)) {
    c.onError?.(handler.name, stage.name, new Error(`undeclared transition ${stage.name} -> ${step.goto}`));
    run.result = "fail";
    return true;
  }
  c.onStage?.(handler.name, stage.name, step.goto);
  run.stage = step.goto;
  run.enteredAt = c.now();
  return false;
}

/** Check a handler's declared transitions all name real stages (run by the tests for every handler). */
export function validateHandler<C>(h: HandlerDef<C>): string[] {
  const names = new Set(h.stages.map((s) => s.name));
  const problems: string[] = [];
  for (const s of h.stages) {
    for (const [to] of s.next) if (to !== END && !names.has(to)) problems.push(`${h.name}: ${s.name} -> ${to} (no such stage)`);
    if (s.timeoutMs && !s.onTimeout) problems.push(`${h.name}: ${s.name} has a timeout but no onTimeout`);
  }
  if (names.size !== h.stages.length) problems.push(`${h.name}: duplicate stage names`);
  return problems;
}

/** The handler as a Mermaid state diagram. */
export function toMermaid<C>(h: HandlerDef<C>): string {
  const id = (n: string) => (n === END ? "[*]" : n.replace(/[^A-Za-z0-9_]/g, "_"));
  const lines = ["stateDiagram-v2", `  %% ${h.name}: ${h.description}`, `  [*] --> ${id(h.stages[0]?.name ?? END)}`];
  for (const s of h.stages) {
    for (const [to, label] of s.next) lines.push(`  ${id(s.name)} --> ${id(to)}${label ? ` : ${label.replace(/[:;]/g, " ")}` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
