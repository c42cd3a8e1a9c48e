import type http from "node:http";

/** One Redfish Event record (Event.v1_7_0 Events[] member). */
export interface EventRecord {
  EventType: "ResourceUpdated" | "Alert" | "StatusChange";
  EventId: string;
  EventTimestamp: string;
  MessageId: string;
  Message: string;
  MessageArgs: string[];
  Severity: "OK" | "Warning" | "Critical";
  OriginOfCondition: { "@odata.id": string };
}

/** A push subscription (EventDestination) created by POST to the Subscriptions collection. */
export interface Subscription {
  id: string;
  destination: string;
  eventTypes: string[];
  context: string;
  protocol: string;
  /** Consecutive failed deliveries; past DeliveryRetryAttempts the subscription is terminated. */
  failures: number;
}

export const EVENT_TYPES = ["ResourceUpdated", "Alert", "StatusChange"] as const;
const DELIVERY_RETRY_ATTEMPTS = 3;
const DELIVERY_TIMEOUT_MS = 2_000;
const MAX_SUBSCRIPTIONS = 32;

/**
 * The emulated EventService (DSP0266 "Eventing"): push subscriptions that POST each event to their
 * Destination, and Server-Sent Events on `ServerSentEventUri`. `drop()` is the fault knob a BMC reset plays:
 * every subscription and every SSE stream is gone, without a word to the subscriber.
 */
export class EmulatedEventService {
  private readonly subs = new Map<string, Subscription>();
  private readonly streams = new Set<http.ServerResponse>();
  private nextSub = 1;
  private nextEvent = 1;
  /** Every event emitted, bounded; tests read it. */
  readonly emitted: EventRecord[] = [];
  /** Deliveries to push destinations: ok and failed counts. */
  readonly deliveries = { ok: 0, failed: 0 };

  constructor(private readonly root: string) {}

  get path(): string {
    return `${this.root}/EventService`;
  }
  get subscriptionsPath(): string {
    return `${this.path}/Subscriptions`;
  }
  get ssePath(): string {
    return `${this.path}/SSE`;
  }

  resource(): object {
    return {
      "@odata.id": this.path,
      "@odata.type": "#EventService.v1_7_0.EventService",
      Id: "EventService",
      Name: "Event Service",
      ServiceEnabled: true,
      Status: { State: "Enabled", Health: "OK" },
      DeliveryRetryAttempts: DELIVERY_RETRY_ATTEMPTS,
      DeliveryRetryIntervalSeconds: 1,
      EventTypesForSubscription: [...EVENT_TYPES],
      ServerSentEventUri: this.ssePath,
      Subscriptions: { "@odata.id": this.subscriptionsPath },
      Actions: { "#EventService.SubmitTestEvent": { target: `${this.path}/Actions/EventService.SubmitTestEvent` } },
    };
  }

  subscriptionIds(): string[] {
    return [...this.subs.keys()];
  }

  subscription(id: string): object | undefined {
    const s = this.subs.get(id);
    if (!s) return undefined;
    return {
      "@odata.id": `${this.subscriptionsPath}/${s.id}`,
      "@odata.type": "#EventDestination.v1_9_0.EventDestination",
      Id: s.id,
      Name: `Subscription ${s.id}`,
      Destination: s.destination,
      EventTypes: s.eventTypes,
      Context: s.context,
      Protocol: s.protocol,
      SubscriptionType: "RedfishEvent",
    };
  }

  /** POST to Subscriptions: a validated EventDestination, or an error text for a 400. */
  subscribe(body: Record<string, unknown>): { id: string } | { error: string; messageId: string } {
    const dest = body.Destination;
    if (typeof dest !== "string" || !/^https?:\/\/[^/\s]+/.test(dest))
      return { error: "Destination must be an http(s) URI", messageId: "PropertyValueFormatError" };
    const protocol = body.Protocol ?? "Redfish";
    if (protocol !== "Redfish") return { error: "Protocol must be Redfish", messageId: "PropertyValueNotInList" };
    const types = body.EventTypes ?? [...EVENT_TYPES];
    if (!Array.isArray(types) || types.some((x) => !(EVENT_TYPES as readonly unknown[]).includes(x)))
      return { error: `EventTypes must be among ${EVENT_TYPES.join(", ")}`, messageId: "PropertyValueNotInList" };
    if (this.subs.size >= MAX_SUBSCRIPTIONS) return { error: "too many subscriptions", messageId: "CreateLimitReachedForResource" };
    const id = String(this.nextSub++);
    this.subs.set(id, {
      id,
      destination: dest,
      eventTypes: types as string[],
      context: typeof body.Context === "string" ? body.Context : "",
      protocol: "Redfish",
      failures: 0,
    });
    return { id };
  }

  unsubscribe(id: string): boolean {
    return this.subs.delete(id);
  }

  /** Hold an authenticated GET of the SSE URI open and stream every event to it. */
  openStream(res: http.ServerResponse): void {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "OData-Version": "4.0" });
    res.write(": metal redfish-emulator event stream\n\n");
    this.streams.add(res);
    res.on("close", () => this.streams.delete(res));
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** As a BMC reset: every subscription and stream is gone; subscribers are not told. */
  drop(): void {
    this.subs.clear();
    for (const s of this.streams) s.destroy();
    this.streams.clear();
  }

  /** Emit one event to every SSE stream and every push subscription that wants its type. */
  emit(e: Omit<EventRecord, "EventId" | "EventTimestamp">): EventRecord {
    const record: EventRecord = { ...e, EventId: String(this.nextEvent++), EventTimestamp: new Date().toISOString() };
    this.emitted.push(record);
    if (this.emitted.length > 1000) this.emitted.splice(0, 500);
    const envelope = (context: string) => ({
      "@odata.type": "#Event.v1_7_0.Event",
      Id: record.EventId,
      Name: "Event",
      Context: context,
      Events: [{ ...record, MemberId: "0" }],
    });
    for (const s of this.streams) s.write(`id: ${record.EventId}\ndata: ${JSON.stringify(envelope(""))}\n\n`);
    for (const sub of this.subs.values()) if (sub.eventTypes.includes(record.EventType)) void this.deliver(sub, envelope(sub.context));
    return record;
  }

  private async deliver(sub: Subscription, body: object): Promise<void> {
    for (let attempt = 0; attempt < DELIVERY_RETRY_ATTEMPTS; attempt++) {
      try {
        const res = await fetch(sub.destination, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          sub.failures = 0;
          this.deliveries.ok++;
          return;
        }
      } catch {
        // counted below
      }
      this.deliveries.failed++;
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
    // DeliveryRetryAttempts exhausted: the subscription is terminated (DSP0266).
    this.subs.delete(sub.id);
  }

  close(): void {
    this.drop();
  }
}
