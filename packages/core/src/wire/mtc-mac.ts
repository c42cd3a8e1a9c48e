import type { MtcMessage } from "./mtc-message.js";

const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** Lower-case colon form, or undefined when the text is not a MAC. */
export function normalizeMac(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const mac = text.trim().toLowerCase();
  return MAC_RE.test(mac) ? mac : undefined;
}

export type MacCheck = { ok: true } | { ok: false; reason: string };

/**
 * The client-side check on agent commands (mtcCompMsg.cpp: mtc_service_command): the command must carry this
 * node's mgmt MAC at hdr[17].
 * QUIRK fixed: the original lets commands of ver 0 through without a MAC and compares with strstr on the
 * header. Every agent sends ver >= 1 with the MAC, so here every command needs it, compared whole and
 * case-insensitively: a stray or forged ver-0 "reboot" cannot pass, nor can a MAC that is a prefix of another's.
 */
export function checkCommandMac(msg: MtcMessage, ownMac: string): MacCheck {
  const own = normalizeMac(ownMac);
  if (!own) return { ok: false, reason: `own mac '${ownMac}' is not a MAC` };
  if (msg.mac === undefined) return { ok: false, reason: "command carries no mac" };
  const got = normalizeMac(msg.mac);
  if (got !== own) return { ok: false, reason: `mac mismatch: command for '${msg.mac.slice(0, 20)}', this node is ${own}` };
  return { ok: true };
}
