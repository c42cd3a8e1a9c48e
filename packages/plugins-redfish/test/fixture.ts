import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A JSON fixture under test/fixtures (tests run from dist/test). */
export function jsonFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url)), "utf8")) as Record<string, unknown>;
}
