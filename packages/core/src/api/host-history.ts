import type { AlarmRecord } from "../alarms/sink.js";
import type { BusEvent, EventBus } from "./event-bus.js";

export interface HistoryEntry {
  /** ms since the epoch */
  at: number;
  /** state (the 200.022 state change log), alarm-set, alarm-clear, log */
  kind: string;
  text: string;
}

/**
 * Each host's recent history for the dashboard's host page: its state changes (the 200.022 log the agent keeps,
 * reference §7) and its alarms raised and cleared, newest `perHost` kept, from the event bus. Forgets a host
 * when it is deleted, so memory is bounded by the inventory.
 */
export class HostHistory {
  private readonly byHost = new Map<string, HistoryEntry[]>();
  private readonly off: () => void;

  constructor(
    bus: EventBus,
    private readonly perHost = 100,
  ) {
    this.off = bus.subscribe((e) => this.take(e));
  }

  private take(e: BusEvent): void {
    if (e.type === "host-removed") {
      this.byHost.delete((e.data as { hostname: string }).hostname);
      return;
    }
    if (e.type !== "alarm") return;
    const r = e.data as AlarmRecord;
    const kind = r.id === "200.022" ? "state" : r.operation === "set" ? "alarm-set" : r.operation === "clear" ? "alarm-clear" : "log";
    const text = kind === "alarm-set" || kind === "alarm-clear" ? `${r.id} ${r.severity}: ${r.text}` : r.text;
    let list = this.byHost.get(r.hostname);
    if (!list) {
      list = [];
      this.byHost.set(r.hostname, list);
    }
    list.push({ at: r.at, kind, text });
    if (list.length > this.perHost) list.splice(0, list.length - this.perHost);
  }

  of(hostname: string): HistoryEntry[] {
    return [...(this.byHost.get(hostname) ?? [])];
  }

  stop(): void {
    this.off();
  }
}
