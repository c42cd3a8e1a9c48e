import { encodeFrame, FrameDecoder } from "./framing.js";
import { type GuestMessage, guestMessage, type Received, validateGuestMessage } from "./messages.js";

export interface MessageChannelHandlers {
  message(msg: Received): void;
  /** A frame that is not a valid message: the reason is the `nack` text. `msgType` when it could be read. */
  invalid(reason: string, msgType?: string): void;
}

/**
 * One end of a guest heartbeat channel, independent of what carries the bytes (a UNIX socket on the host,
 * a virtio-serial port or a pty in the guest): frames outgoing messages with this side's own sequence
 * counter, and splits, parses and validates incoming bytes.
 */
export class MessageChannel {
  private readonly decoder = new FrameDecoder();
  private sequence = 0;

  constructor(
    private readonly write: (frame: string) => void,
    private readonly handlers: MessageChannelHandlers,
    /** The original reads at most 10 messages per instance per pass; a flood beyond this per chunk is dropped. */
    private readonly maxFramesPerChunk = 32,
  ) {}

  send(msg: GuestMessage): void {
    // Pre-increment, wrapping as the C side's uint32 does.
    this.sequence = (this.sequence + 1) >>> 0;
    this.write(encodeFrame(guestMessage(msg, this.sequence)));
  }

  feed(chunk: Buffer): void {
    const frames = this.decoder.push(chunk);
    const n = Math.min(frames.length, this.maxFramesPerChunk);
    for (let i = 0; i < n; i++) {
      const frame = frames[i]!;
      if (!frame.ok) {
        this.handlers.invalid(frame.reason);
        continue;
      }
      const result = validateGuestMessage(frame.value);
      if (result.ok) this.handlers.message(result.message);
      else this.handlers.invalid(result.reason, result.msgType);
    }
    if (frames.length > n) this.handlers.invalid(`message flood: dropped ${frames.length - n} messages`);
  }
}
