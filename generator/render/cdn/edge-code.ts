// Generates the edge code that answers import endpoints — the Netlify Edge Function and the
// Cloudflare Pages `_worker.js` — from templates/, with the import map inlined.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImportMap } from './import-map.js';
import type { BlobRedirect } from '../bucket-layout.js';
import type { HtpasswdUser } from '../../config/htpasswd.js';

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

/**
 * bcrypt.js, inlined unchanged with its licence, as an expression: its UMD build run with
 * `globalThis`, `define`, `exports`, `module` and `require` shadowed, so it touches no global and
 * a bundler (wrangler's esbuild) resolves no import; it hands back the module's exports.
 */
function bcryptExpression(): string {
  const main = createRequire(import.meta.url).resolve('bcryptjs'); // the package's UMD build
  const dir = path.dirname(path.dirname(main));
  const licence = readFileSync(path.join(dir, 'LICENSE'), 'utf8').replace(/\*\//g, '* /');
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return `((globalThis, define, exports, module, require) => {
// bcrypt.js ${version} (https://github.com/dcodeIO/bcrypt.js), inlined unchanged:
/*
${licence}*/
${readFileSync(main, 'utf8')}
return globalThis.bcrypt;
})({})`;
}

interface Fill {
  blobs?: BlobRedirect | null;
  users?: HtpasswdUser[] | null;
}

function fill(name: string, map: ImportMap, { blobs = null, users = null }: Fill = {}): string {
  const auth = users?.length ? { users: Object.fromEntries(users.map((u) => [u.user, u.hash])) } : null;
  return template(name)
    .replace('/* @@IMPORT_ENDPOINTS@@ */', () => importEndpointsBody())
    .replace('/* @@IMPORT_MAP@@ */ null', () => literal(map))
    .replace('/* @@BLOB_REDIRECT@@ */ null', () => literal(blobs))
    .replace('/* @@AUTH@@ */ null', () => literal(auth))
    .replace('/* @@BCRYPT@@ */ null', () => (auth ? bcryptExpression() : 'null'))
    .replace("/* @@IMPORT_PATH@@ */ '/import/*'", () => literal(`${map.base}/import/*`));
}

export const renderNetlifyEdgeFunction = (map: ImportMap) => fill('netlify-edge-function.js', map);
/** `blobs`: where /images/ redirects to when image files live on object storage; `users`: a private tree's. */
export const renderCloudflareWorker = (map: ImportMap, blobs: BlobRedirect | null = null, users: HtpasswdUser[] | null = null) =>
  fill('cloudflare-worker.js', map, { blobs, users });
