import { unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { MessageChannel } from "../../src/channel/message-channel.js";
import type { GuestMessage, Received } from "../../src/channel/messages.js";

/**
 * Plays QEMU and the guest at once: listens on the channel path (QEMU is the server side) and answers
 * through the accepted connection like a guest. Lets a test write raw bytes, too.
 */
export class SocketGuest {
  readonly received: Received[] = [];
  readonly invalid: string[] = [];
  answering = true;
  connections = 0;
  private conn: Socket | undefined;
  private channel: MessageChannel | undefined;

  private constructor(
    readonly path: string,
    readonly server: Server,
  ) {}

  static async listen(path: string): Promise<SocketGuest> {
    let guest: SocketGuest | undefined;
    const server = createServer((conn) => guest?.accept(conn));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    guest = new SocketGuest(path, server);
    return guest;
  }

  private accept(conn: Socket): void {
    this.connections++;
    this.conn?.destroy();
    this.conn = conn;
    this.channel = new MessageChannel((f) => conn.write(f), { message: (m) => this.onMessage(m), invalid: (r) => this.invalid.push(r) });
    conn.on("data", (c: Buffer) => this.channel?.feed(c));
    conn.on("error", () => {});
  }

  get connected(): boolean {
    return this.conn !== undefined && !this.conn.destroyed;
  }

  send(msg: GuestMessage): void {
    this.channel?.send(msg);
  }

  raw(bytes: string): void {
    this.conn?.write(bytes);
  }

  init(intervalMs = 400, corrective: "reboot" | "stop" | "log" = "reboot"): void {
    this.send({
      msg_type: "init",
      invocation_id: 1234,
      name: "socket-guest",
      heartbeat_interval_ms: intervalMs,
      vote_secs: 3,
      shutdown_notice_secs: 3,
      suspend_notice_secs: 3,
      resume_notice_secs: 3,
      restart_secs: 30,
      corrective_action: corrective,
    });
  }

  count(type: Received["msg_type"]): number {
    return this.received.filter((m) => m.msg_type === type).length;
  }

  nacks(): string[] {
    return this.received.filter((m) => m.msg_type === "nack").map((m) => (m as { log_msg: string }).log_msg);
  }

  private onMessage(m: Received): void {
    this.received.push(m);
    if (m.msg_type === "challenge" && this.answering) {
      this.send({
        msg_type: "challenge_response",
        heartbeat_response: m.heartbeat_challenge,
        heartbeat_health: "healthy",
        corrective_action: "none",
        log_msg: "",
      });
    }
  }

  /** Stop listening and remove the socket file, as QEMU does when the VM goes away. */
  async close(unlink = true): Promise<void> {
    this.conn?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    if (unlink) {
      try {
        unlinkSync(this.path);
      } catch {}
    }
  }
}
