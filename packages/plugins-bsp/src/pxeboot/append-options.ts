import type { Host } from "../hosts/host-list.js";
import { APPEND_OPTIONS_TOKEN, BASE_URL_TOKEN } from "./templates.js";

/**
 * pxeboot-update's Debian APPEND_OPTIONS (reference B.3): `instdev=<dev> [insthwsettle=N] [console=C]
 * user_namespace.enable=1 [extra args]`. The security-profile and tboot options are ignored today.
 */
export function appendOptions(host: Pick<Host, "installDevice" | "hwSettle" | "console" | "kernelArgs">): string {
  const parts = [`instdev=${host.installDevice}`];
  if (host.hwSettle > 0) parts.push(`insthwsettle=${host.hwSettle}`);
  if (host.console) parts.push(`console=${host.console}`);
  parts.push("user_namespace.enable=1");
  parts.push(...host.kernelArgs);
  return parts.join(" ");
}

const FIRST_APPEND_OPTIONS_PER_LINE = new RegExp(`^(.*?)${APPEND_OPTIONS_TOKEN}`, "gm");
const EVERY_BASE_URL = new RegExp(BASE_URL_TOKEN, "g");

/**
 * The run-time stage, as pxeboot-update's single sed: the first APPEND_OPTIONS on each line, BASE_URL
 * everywhere. Function replacers, so a `$` in a value is never read as a back-reference.
 */
export function substitute(template: string, values: { appendOptions: string; baseUrl: string }): string {
  return template.replace(EVERY_BASE_URL, () => values.baseUrl).replace(FIRST_APPEND_OPTIONS_PER_LINE, (_m, head: string) => head + values.appendOptions);
}
