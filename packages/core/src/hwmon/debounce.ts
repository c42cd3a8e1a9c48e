import type { HwmonSeverity } from "./severity.js";

export type DebounceResult =
  | { kind: "steady" }
  | { kind: "transient"; from: HwmonSeverity; to: HwmonSeverity }
  | { kind: "change"; from: HwmonSeverity; to: HwmonSeverity };

/**
 * Reference hwmonBmc.cpp: a reading that differs from the previous sample is a transient; a state change
 * takes effect only when two consecutive readings agree. The state starts as "good".
 */
export class SensorDebouncer {
  private state: HwmonSeverity = "good";
  private last: HwmonSeverity | undefined;
  /** How many transients this sensor has had (the reference's debounce_count). */
  transients = 0;

  get severity(): HwmonSeverity {
    return this.state;
  }

  update(sample: HwmonSeverity): DebounceResult {
    const previous = this.last;
    this.last = sample;
    if (sample === this.state) return { kind: "steady" };
    if (previous === sample) {
      const from = this.state;
      this.state = sample;
      return { kind: "change", from, to: sample };
    }
    this.transients++;
    return { kind: "transient", from: this.state, to: sample };
  }
}
