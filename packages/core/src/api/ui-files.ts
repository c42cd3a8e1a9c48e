import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface UiFile {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Where the dashboard's own files live: `packages/core/ui/` (plain ES modules, no build step). */
export const UI_DIR = fileURLToPath(new URL("../../../ui/", import.meta.url));

/**
 * The dashboard's files, read once into memory and served by exact name (no path is ever joined from a URL):
 * `packages/core/ui/*` and, under `vendor/`, the ES module builds of preact, preact/hooks and htm from
 * node_modules — so the browser needs no CDN (the machines have no internet).
 */
export async function loadDashboard(): Promise<Map<string, UiFile>> {
  const files = new Map<string, UiFile>();
  for (const name of await readdir(UI_DIR)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { type, body: await readFile(join(UI_DIR, name)) });
  }
  const vendor: Record<string, string> = { "preact.mjs": "preact", "hooks.mjs": "preact/hooks", "htm.mjs": "htm" };
  for (const [name, spec] of Object.entries(vendor))
    files.set(`vendor/${name}`, { type: TYPES[".mjs"] as string, body: await readFile(fileURLToPath(import.meta.resolve(spec))) });
  return files;
}
