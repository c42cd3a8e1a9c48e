import Table from "cli-table3";
import { type Command, Option } from "commander";
import { stringify as toYaml } from "yaml";
import { CliError } from "./errors.js";

/**
 * Output of every read command, in the habits of the `system` and `baremetal` (OpenStack cliff) CLIs:
 * `-f/--format table|json|yaml|value|csv`, `--column NAME` (repeatable) to choose and order the fields, and
 * `--json` kept as a synonym of `-f json`. Colour only on a terminal and never when NO_COLOR is set
 * (https://no-color.org).
 */
export const OUTPUT_FORMATS = ["table", "json", "yaml", "value", "csv"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface OutputOptions {
  format?: string;
  column?: string[];
  json?: boolean;
}

/** Add -f/--format, --column and --json to a read command. */
export function withOutputOptions(cmd: Command, defaultFormat: OutputFormat = "table"): Command {
  return cmd
    .addOption(new Option("-f, --format <format>", "output format").choices([...OUTPUT_FORMATS]).default(defaultFormat))
    .option("--column <name>", "show only this field (repeatable; in this order)", (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option("--json", "same as -f json");
}

/** The format chosen (`--json` wins, as `-f json`). */
export function outputFormat(o: OutputOptions): OutputFormat {
  if (o.json) return "json";
  const f = o.format ?? "table";
  if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) throw new CliError(`-f/--format must be one of ${OUTPUT_FORMATS.join(", ")} (got '${f}')`);
  return f as OutputFormat;
}

/** Whether to colour what goes to this stream: a terminal, and NO_COLOR absent or empty. */
export function useColor(stream: NodeJS.WritableStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return Boolean((stream as NodeJS.WriteStream).isTTY);
}

/**
 * A cli-table3 table whose head is red only when `useColor()` says so. The colour is written here rather than by
 * cli-table3, whose colour library also asks TERM and CI and so stays plain on a terminal without TERM.
 */
export function newTable(head: string[]): InstanceType<typeof Table> {
  const paint = useColor() ? (s: string) => `\x1b[31m${s}\x1b[39m` : (s: string) => s;
  return new Table({ head: head.map(paint), style: { head: [], border: [] } });
}

/** A row's field for text output: absent → empty, arrays joined with commas, objects as JSON. */
function cell(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (Array.isArray(v)) return v.map((x) => (typeof x === "object" && x !== null ? JSON.stringify(x) : String(x))).join(",");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function pick(row: Record<string, unknown>, cols: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(cols.map((c) => [c, row[c]]));
}

function chosenColumns(o: OutputOptions, defaults: readonly string[], available: readonly string[]): string[] | undefined {
  if (!o.column?.length) return undefined;
  const known = new Set([...defaults, ...available]);
  const unknown = o.column.filter((c) => !known.has(c));
  if (unknown.length) throw new CliError(`--column: no field named ${unknown.map((c) => `'${c}'`).join(", ")} (fields: ${[...known].join(", ")})`);
  return o.column;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Print a list. `columns` are the fields a table shows by default; json and yaml print every field of each row
 * unless --column chose some. value: the chosen fields space-separated, one row a line; csv: a header line, then
 * RFC 4180 rows. `empty` is printed (table format only) when there are no rows.
 */
export function printList<R extends object>(
  o: OutputOptions,
  raw: readonly R[],
  columns: readonly string[],
  opts: { empty?: string; view?: (row: R) => Record<string, unknown> } = {},
): void {
  const fmt = outputFormat(o);
  const { empty } = opts;
  // Text formats and --column see the row with its computed fields; json/yaml without --column, the row itself.
  const rows: Array<Record<string, unknown>> = raw.map((r) => ({ ...(r as Record<string, unknown>), ...opts.view?.(r) }));
  const available = rows.length ? Object.keys(rows[0] as object) : [];
  const chosen = chosenColumns(o, columns, available);
  const cols = chosen ?? columns;
  const out = process.stdout;
  switch (fmt) {
    case "json":
      out.write(`${JSON.stringify(chosen ? rows.map((r) => pick(r, chosen)) : raw, null, 2)}\n`);
      return;
    case "yaml":
      out.write(toYaml(chosen ? rows.map((r) => pick(r, chosen)) : raw));
      return;
    case "value":
      for (const r of rows) out.write(`${cols.map((c) => cell(r[c])).join(" ")}\n`);
      return;
    case "csv":
      out.write(`${cols.map(csvField).join(",")}\n`);
      for (const r of rows) out.write(`${cols.map((c) => csvField(cell(r[c]))).join(",")}\n`);
      return;
    default: {
      if (!rows.length && empty !== undefined) {
        out.write(`${empty}\n`);
        return;
      }
      const t = newTable([...cols]);
      for (const r of rows) t.push(cols.map((c) => cell(r[c])));
      out.write(`${t.toString()}\n`);
    }
  }
}

/**
 * Print one object (a show command). table: a Field/Value table of the chosen fields (default `fields`, skipping
 * empty ones); json/yaml: the whole object unless --column chose fields; value: one value a line; csv: a
 * header line and one row.
 */
export function printRecord<R extends object>(o: OutputOptions, raw: R, fields: readonly string[], view?: (r: R) => Record<string, unknown>): void {
  const fmt = outputFormat(o);
  const record: Record<string, unknown> = { ...(raw as Record<string, unknown>), ...view?.(raw) };
  const chosen = chosenColumns(o, fields, Object.keys(record));
  const cols = chosen ?? fields;
  const out = process.stdout;
  switch (fmt) {
    case "json":
      out.write(`${JSON.stringify(chosen ? pick(record, chosen) : raw, null, 2)}\n`);
      return;
    case "yaml":
      out.write(toYaml(chosen ? pick(record, chosen) : raw));
      return;
    case "value":
      for (const c of cols) out.write(`${cell(record[c])}\n`);
      return;
    case "csv":
      out.write(`${cols.map(csvField).join(",")}\n${cols.map((c) => csvField(cell(record[c]))).join(",")}\n`);
      return;
    default: {
      const t = newTable(["Field", "Value"]);
      for (const c of cols) {
        const v = cell(record[c]);
        if (chosen || v !== "") t.push([c, v]);
      }
      out.write(`${t.toString()}\n`);
    }
  }
}

/**
 * Whether this command line asked for JSON output (`--json`, `-f json`, `-fjson`, `--format json`,
 * `--format=json`): errors are then printed as `{"status":"fail","reason":...}` on stderr.
 */
export function argvWantsJson(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") return false;
    if (a === "--json" || a === "-fjson" || a === "--format=json") return true;
    if ((a === "-f" || a === "--format") && argv[i + 1] === "json") return true;
  }
  return false;
}

/** An error line for the chosen style: `metal: REASON` or the API's `{"status":"fail","reason":...}`. */
export function formatError(reason: string, json: boolean): string {
  return json ? `${JSON.stringify({ status: "fail", reason })}\n` : `metal: ${reason}\n`;
}
