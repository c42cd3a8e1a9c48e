import { BmcError, type BmcEvent, type EventSource, type EventSubscription, type Logger } from "@metal/core/plugin-api";
import type { RedfishClient } from "./client/redfish-client.js";

type Json = Record<string, unknown>;

const MAX_EVENT_BYTES = 1024 * 1024;

/** One Redfish Event record → BmcEvent: a ComputerSystem origin is about power, a sensor/Thermal/Power origin about sensors. */
export function bmcEventOf(rec: Json): BmcEvent {
  const origin = (rec.OriginOfCondition as { "@odata.id"?: unknown } | undefined)?.["@odata.id"];
  const o = typeof origin === "string" ? origin : undefined;
  const messageId = typeof rec.MessageId === "string" ? rec.MessageId : "";
  let kind: BmcEvent["kind"] = "other";
  if (o && /\/Chassis\/[^/]+\/(Sensors|Thermal|Power)(\/|#|$)/.test(o)) kind = "sensor";
  else if (o && /\/Systems\/[^/]+$/.test(o)) kind = "power";
  else if (/Sensor|Threshold/i.test(messageId)) kind = "sensor";
  return {
    kind,
    ...(o ? { origin: o } : {}),
    messageId,
    ...(typeof rec.Severity === "string" ? { severity: rec.Severity } : {}),
    ...(typeof rec.Message === "string" ? { message: rec.Message } : {}),
  };
}

/**
 * Split a Server-Sent Events byte stream into the `data` of each event (WHATWG SSE: lines, blank line ends an
 * event, `data:` lines joined with newlines, comments ignored). Keeps state between chunks; bounded in size.
 */
export class SseParser {
  private buf = "";
  private data: string[] = [];

  push(chunk: string): string[] {
    this.buf += chunk;
    if (this.buf.length > MAX_EVENT_BYTES) throw new BmcError("protocol", `an SSE event longer than ${MAX_EVENT_BYTES} bytes`);
    const out: string[] = [];
    let i = this.buf.search(/\r?\n|\r/);
    while (i >= 0) {
      const nl = this.buf[i] === "\r" && this.buf[i + 1] === "\n" ? 2 : 1;
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + nl);
      if (line === "") {
        if (this.data.length) out.push(this.data.join("\n"));
        this.data = [];
      } else if (line.startsWith("data:")) {
        this.data.push(line.slice(5).replace(/^ /, ""));
      }
      i = this.buf.search(/\r?\n|\r/);
    }
    return out;
  }
}

/**
 * Redfish events over the EventService's ServerSentEventUri (DSP0266 "Server-Sent Events"): no listener
 * socket on the metal side, the session the client already holds. The stream ending without close() — a BMC
 * reset, a dropped connection — is reported once through onLost.
 */
export class RedfishEventSource implements EventSource {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly client: RedfishClient,
    private readonly host: string,
    private readonly logger?: Logger,
  ) {}

  async subscribe(onEvent: (e: BmcEvent) => void, onLost: (why: string) => void): Promise<EventSubscription> {
    // DSP0266 fixes the EventService's URI, so no service-root read is needed; 404 means the BMC has none.
    const service = await this.client.get("/redfish/v1/EventService");
    const sse = service.ServerSentEventUri;
    if (typeof sse !== "string" || !sse) throw new BmcError("unsupported", "the BMC's EventService has no ServerSentEventUri", this.host);
    const { chunks, abort } = await this.client.stream(sse);
    this.open.add(abort);
    let closed = false;
    let lostSaid = false;
    const lost = (why: string) => {
      if (closed || lostSaid) return;
      lostSaid = true;
      onLost(why);
    };
    const parser = new SseParser();
    void (async () => {
      try {
        for await (const chunk of chunks) {
          if (closed) break;
          for (const data of parser.push(chunk.toString("utf8"))) {
            let doc: Json;
            try {
              doc = JSON.parse(data) as Json;
            } catch {
              this.logger?.warn({ host: this.host }, "redfish event stream: an event that is not JSON; ignored");
              continue;
            }
            const records = Array.isArray(doc.Events) ? (doc.Events as Json[]) : [doc];
            for (const rec of records.slice(0, 256)) if (rec && typeof rec === "object") onEvent(bmcEventOf(rec));
          }
        }
        lost("the BMC closed the event stream");
      } catch (err) {
        lost(`event stream failed: ${(err as Error).message}`);
      } finally {
        this.open.delete(abort);
      }
    })();
    return {
      close: async () => {
        closed = true;
        this.open.delete(abort);
        abort();
      },
    };
  }

  /** End every open stream without reporting a loss (the driver is closing). */
  closeAll(): void {
    for (const abort of this.open) abort();
    this.open.clear();
  }
}
