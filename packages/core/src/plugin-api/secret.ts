/**
 * A credential that must never reach a command line or a log line. Only `reveal()` gives
 * the clear text; `toString`/`toJSON` of an implementation print a redaction marker.
 */
export interface Secret {
  reveal(): string;
  toJSON(): string;
  toString(): string;
}
