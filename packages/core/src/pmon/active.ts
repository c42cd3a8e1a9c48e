/**
 * The active monitor (reference mtce-core.md §9, ACTIVE_STAGE__*): ping the process on its loopback port every
 * `period` seconds; no matching answer within `timeout` is a miss; `threshold` back-to-back misses fail it (the
 * passive handler then kills and restarts it). Runs in `PmonProcess.amon`, stepped while the process is monitored.
 */
import { done, goto, type HandlerDef, stay } from "../fsm/engine.js";
import type { PmonProcess } from "./process.js";

export const activeHandler: HandlerDef<PmonProcess> = {
  name: "pmon-active",
  description: "pmond active monitoring: request/response pulses with AMON_MAGIC_NUM on the process's loopback port",
  stages: [
    { name: "IDLE", next: [["START_MONITOR"]], run: () => goto("START_MONITOR") },
    {
      name: "START_MONITOR",
      next: [["PULSE_REQUEST"]],
      run: (p) => {
        p.amonMisses = 0;
        return goto("PULSE_REQUEST");
      },
    },
    {
      name: "PULSE_REQUEST",
      next: [["REQUEST_WAIT"]],
      run: (p) => {
        p.amonSeq = (p.amonSeq + 1) >>> 0;
        p.amonSentAt = p.now();
        p.ctx.ping(p, p.amonSeq);
        return goto("REQUEST_WAIT");
      },
    },
    {
      name: "REQUEST_WAIT",
      next: [
        ["PULSE_RESPONSE", "answered"],
        ["GAP_SETUP", "missed"],
        ["FAILED", "threshold misses"],
      ],
      timeoutMs: (p) => p.conf.timeout * 1000,
      run: (p) => (p.amonAnswered === p.amonSeq ? goto("PULSE_RESPONSE") : stay),
      onTimeout: (p) => {
        p.amonMisses++;
        p.ctx.log.warn({ process: p.name, misses: p.amonMisses, threshold: p.conf.threshold }, "active monitor: no answer");
        return p.amonMisses >= p.conf.threshold ? goto("FAILED") : goto("GAP_SETUP");
      },
    },
    {
      name: "PULSE_RESPONSE",
      next: [["GAP_SETUP"]],
      run: (p) => {
        p.amonMisses = 0;
        return goto("GAP_SETUP");
      },
    },
    { name: "GAP_SETUP", next: [["GAP_WAIT"]], run: () => goto("GAP_WAIT") },
    {
      name: "GAP_WAIT",
      next: [["PULSE_REQUEST", "period elapsed"]],
      run: (p) => (p.now() - p.amonSentAt >= p.conf.period * 1000 ? goto("PULSE_REQUEST") : stay),
    },
    {
      name: "FAILED",
      next: [["END", "the passive handler restarts it"]],
      run: () => done("fail"),
    },
  ],
};
