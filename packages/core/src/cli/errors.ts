/** The stable code of every CliError. */
export const CLI_ERROR_CODE = "cli";

/**
 * A CLI failure with a one-line reason and the exit code to use (2 = bad input, 1 = failed). A plugin's
 * sub-command may throw one from its own copy of `@metal/core`: `metal` recognises it by `code` (isCliError).
 */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly code = CLI_ERROR_CODE;
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** True for a CliError from any copy of `@metal/core`: its code, a numeric exit code and a message. */
export function isCliError(err: unknown): err is CliError {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; exitCode?: unknown; message?: unknown };
  return e.code === CLI_ERROR_CODE && typeof e.exitCode === "number" && typeof e.message === "string";
}

/** Parse a positive integer option or fail with a message that names the option. */
export function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${name} must be an integer ${min}..${max} (got '${value}')`);
    return n;
  };
}

export function numberOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new CliError(`${name} must be a number ${min}..${max} (got '${value}')`);
    return n;
  };
}
