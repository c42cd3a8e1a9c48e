import { readFileSync, statSync } from "node:fs";
import type { Secret } from "../plugin-api/secret.js";

class RedactedSecret implements Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return "[redacted]";
  }
  toString(): string {
    return "[redacted]";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "[redacted]";
  }
}

export function secretFromString(value: string): Secret {
  return new RedactedSecret(value);
}

/**
 * Read a secret from a file that only its owner may read. A group- or world-readable file is refused:
 * a password readable by every user of the machine is not a secret.
 */
export function secretFromFile(path: string): Secret {
  const st = statSync(path);
  if ((st.mode & 0o077) !== 0) {
    throw new Error(`${path}: permissions ${(st.mode & 0o777).toString(8)} are too open; use chmod 600`);
  }
  return new RedactedSecret(readFileSync(path, "utf8").replace(/\r?\n$/, ""));
}
