// Generates the edge code that answers import endpoints — the Netlify Edge Function and the
// Cloudflare Pages `_worker.js` — from templates/, with the import map inlined.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImportMap } from './import-map.js';
import type { BlobRedirect } from '../bucket-layout.js';

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

// JSON is valid JavaScript; escape what could close a script context if ever embedded in HTML.
const literal = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

function fill(name: string, map: ImportMap, blobs: BlobRedirect | null = null): string {
  return template(name)
    .replace('/* @@IMPORT_ENDPOINTS@@ */', () => importEndpointsBody())
    .replace('/* @@IMPORT_MAP@@ */ null', () => literal(map))
    .replace('/* @@BLOB_REDIRECT@@ */ null', () => literal(blobs))
    .replace("/* @@IMPORT_PATH@@ */ '/import/*'", () => literal(`${map.base}/import/*`));
}

export const renderNetlifyEdgeFunction = (map: ImportMap) => fill('netlify-edge-function.js', map);
/** `blobs`: where /images/ redirects to when image files live on object storage. */
export const renderCloudflareWorker = (map: ImportMap, blobs: BlobRedirect | null = null) => fill('cloudflare-worker.js', map, blobs);
