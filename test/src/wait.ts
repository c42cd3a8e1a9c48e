import { createSocket } from "node:dgram";

/** A UDP port free on `address` right now (bound, read, released), for configs that need a fixed port. */
export async function freeUdpPort(address: string): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Poll `pred` every `stepMs` until it holds; throw after `limitMs` naming what was awaited. */
export async function waitFor(what: string, pred: () => boolean | Promise<boolean>, limitMs = 20_000, stepMs = 50): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await pred())) {
    if (Date.now() > until) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
