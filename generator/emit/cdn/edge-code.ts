// Generates the edge code that answers import endpoints — the Netlify Edge Function and the
// Cloudflare Pages `_worker.js` — from templates/, with the import map inlined.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImportMap } from './import-map.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../../../templates/', import.meta.url));

function template(name: string): string {
  return readFileSync(`${TEMPLATES_DIR}${name}`, 'utf8');
}

/** The shared endpoint logic as a script body: the module's closing export line removed. */
function importEndpointsBody(): string {
  const text = template('import-endpoints.js');
  const exportLine = /^export \{[^}]*\};\s*$/m;
  if (!exportLine.test(text)) throw new Error('templates/import-endpoints.js must end with an `export { … };` line');
  return text.replace(exportLine, '');
}

function fill(name: string, map: ImportMap): string {
  // JSON is valid JavaScript; escape what could close a script context if ever embedded in HTML.
  const json = JSON.stringify(map).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return template(name)
    .replace('/* @@IMPORT_ENDPOINTS@@ */', () => importEndpointsBody())
    .replace('/* @@IMPORT_MAP@@ */ null', () => json);
}

export const renderNetlifyEdgeFunction = (map: ImportMap) => fill('netlify-edge-function.js', map);
export const renderCloudflareWorker = (map: ImportMap) => fill('cloudflare-worker.js', map);
