import type { Clock, Logger } from "@metal/core/plugin-api";
import { httpJson } from "./http-request.js";

/** The VIM's answer to which response a guest gave (A.9 mapping). */
export type GuestResponse = "allow" | "proceed" | "reject" | "";

export interface VimInstanceState {
  uuid: string;
  hostname: string;
  reporting: boolean;
}

/**
 * guestAgent as the VIM's client (reference A.13): events go as PATCH /nfvi-plugins/v1/instances/<uuid>,
 * retried with a delay; the audit reads host state and the host's instances. Events for one instance are
 * sent in order (each waits for the previous), so a STOPPED never overtakes the LOSS that follows it.
 */
export class VimClient {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly baseUrl: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly timeoutMs: number,
    private readonly retries: number,
    private readonly retryDelayMs = 1000,
  ) {}

  /** Resolves when every event queued so far has been sent or given up. */
  async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  serviceEvent(uuid: string, hostname: string, reporting: boolean, heartbeating: boolean, restartTimeout: string): void {
    const onOff = (b: boolean) => (b ? "enabled" : "disabled");
    this.patch(uuid, {
      uuid,
      hostname,
      "event-type": "service",
      "event-data": {
        services: [{ service: "heartbeat", state: onOff(reporting), status: onOff(heartbeating), "restart-timeout": heartbeating ? restartTimeout : "0" }],
      },
    });
  }

  /** `failed` on a loss, `unhealthy` on an ill-health report; the repair action is the guest's. */
  alarm(uuid: string, hostname: string, state: "failed" | "unhealthy", repairAction: string): void {
    // The original sent a loss with no retries; it is the one event that must arrive, so it gets them too.
    this.patch(uuid, { uuid, hostname, "event-type": "alarm", "event-data": { services: [{ service: "heartbeat", state, "repair-action": repairAction }] } });
  }

  action(uuid: string, event: string, response: GuestResponse, reason: string): void {
    this.patch(uuid, { uuid, "event-type": "action", "event-data": { action: event, "guest-response": response, reason } });
  }

  /** GET /nfvi-plugins/v1/hosts/<uuid> with a body, as the original; undefined when the VIM cannot say. */
  async hostState(uuid: string, hostname: string): Promise<boolean | undefined> {
    try {
      const r = await httpJson(this.clock, "GET", `${this.baseUrl}/nfvi-plugins/v1/hosts/${uuid}`, { hostname, uuid }, this.timeoutMs);
      if (r.status !== 200) return undefined;
      // A reply that does not parse counts as disabled (A.13).
      try {
        return (JSON.parse(r.body) as { state?: unknown }).state === "enabled";
      } catch {
        return false;
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "VIM host query failed");
      return undefined;
    }
  }

  /** GET /nfvi-plugins/v1/instances/?host_uuid=<uuid>; undefined when the VIM cannot say. */
  async hostInstances(hostUuid: string): Promise<VimInstanceState[] | undefined> {
    try {
      const r = await httpJson(
        this.clock,
        "GET",
        `${this.baseUrl}/nfvi-plugins/v1/instances/?host_uuid=${encodeURIComponent(hostUuid)}`,
        undefined,
        this.timeoutMs,
      );
      if (r.status !== 200) return undefined;
      const parsed = JSON.parse(r.body) as { instances?: unknown };
      if (!Array.isArray(parsed.instances)) return undefined;
      const out: VimInstanceState[] = [];
      for (const i of parsed.instances as Array<Record<string, unknown>>) {
        if (typeof i?.uuid !== "string" || i.uuid.length !== 36 || typeof i.hostname !== "string") continue;
        const services = Array.isArray(i.services) ? (i.services as Array<Record<string, unknown>>) : [];
        const hb = services.find((s) => s?.service === "heartbeat");
        out.push({ uuid: i.uuid.toLowerCase(), hostname: i.hostname, reporting: hb?.state === "enabled" });
      }
      return out;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "VIM instance query failed");
      return undefined;
    }
  }

  private patch(uuid: string, body: Record<string, unknown>): void {
    const previous = this.chains.get(uuid) ?? Promise.resolve();
    const next = previous.then(() => this.send(uuid, body));
    this.chains.set(uuid, next);
    void next.then(() => {
      if (this.chains.get(uuid) === next) this.chains.delete(uuid);
    });
  }

  private async send(uuid: string, body: Record<string, unknown>): Promise<void> {
    const url = `${this.baseUrl}/nfvi-plugins/v1/instances/${uuid}`;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      try {
        const r = await httpJson(this.clock, "PATCH", url, body, this.timeoutMs);
        if (r.status >= 200 && r.status < 300) return;
        this.log.warn({ uuid, status: r.status, event: body["event-type"], attempt }, "VIM refused a guest event");
      } catch (err) {
        this.log.warn({ uuid, err: (err as Error).message, event: body["event-type"], attempt }, "cannot reach the VIM");
      }
      if (attempt < this.retries) await this.clock.sleep(this.retryDelayMs);
    }
    this.log.error({ uuid, event: body["event-type"] }, "guest event to the VIM given up after retries");
  }
}
