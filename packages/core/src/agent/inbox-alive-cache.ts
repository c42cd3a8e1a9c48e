import type { NetworkName } from "../transport/transport.js";
import { type MtcAlive, type MtcAlivePayload, parseMtcAlive } from "../wire/mtc-alive.js";
import type { MtcMessage } from "../wire/mtc-message.js";

const SEQ_KEY = '"sequence":';
/** Three networks for each of 500 hosts, with room to spare; cleared when full. */
const MAX_SHAPES = 4096;

/**
 * A host's mtcAlive JSON is the same every 5 s but for its sequence number. Keep parses by the text with the
 * sequence number cut out (its "shape") and reuse one when the shape recurs: the inbox then skips JSON.parse,
 * its biggest per-message cost, for nearly every mtcAlive. Any other difference is a new shape, parsed in full.
 */
export class AlivePayloadCache {
  private readonly shapes = new Map<string, { payload: MtcAlivePayload; network: NetworkName | undefined }>();

  parse(msg: MtcMessage): ReturnType<typeof parseMtcAlive> {
    const buf = msg.buf;
    const at = buf.lastIndexOf(SEQ_KEY);
    let end = at + SEQ_KEY.length;
    if (at >= 0) while (end < buf.length && end - at < SEQ_KEY.length + 10 && buf.charCodeAt(end) >= 48 && buf.charCodeAt(end) <= 57) end++;
    const digits = at >= 0 ? end - at - SEQ_KEY.length : 0;
    const shape = digits > 0 ? buf.slice(0, at) + buf.slice(end) : undefined;
    if (shape !== undefined) {
      const hit = this.shapes.get(shape);
      if (hit && msg.cmd === 5 && msg.ver < 2) {
        const payload: MtcAlivePayload = { ...hit.payload, sequence: Number(buf.slice(at + SEQ_KEY.length, end)) };
        const alive: MtcAlive = { uptime: msg.parm[0], health: msg.parm[1], flags: msg.parm[2], sequence: msg.parm[3], payload };
        return hit.network ? { ok: true, alive, network: hit.network } : { ok: true, alive };
      }
    }
    const parsed = parseMtcAlive(msg);
    if (parsed.ok && shape !== undefined && msg.ver < 2) {
      if (this.shapes.size >= MAX_SHAPES) this.shapes.clear();
      this.shapes.set(shape, { payload: parsed.alive.payload, network: parsed.network });
    }
    return parsed;
  }
}
