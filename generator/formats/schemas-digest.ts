// A digest of the code that decides whether rendered streams and catalog pass — the schemas, what
// they import, and the part-by-part check — kept with the schemas: the fingerprint cache keeps
// parts proven under the same digest, so a change to any of these files checks everything again.
// test/unit/schemas-digest.test.ts fails when a module they import is missing from the list.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/** generator/-relative modules (as .ts) the digest covers: all of simplestreams/, and these. */
export const SCHEMA_MODULES: readonly string[] = [
  ...readdirSync(new URL('../simplestreams/', import.meta.url))
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => `simplestreams/${f.replace(/\.js$/, '.ts')}`),
  'formats/catalog.ts',
  'util/check-parts.ts',
];

export function schemasDigest(): string {
  const hash = createHash('sha256');
  for (const m of SCHEMA_MODULES) hash.update(readFileSync(new URL(`../${m.replace(/\.ts$/, '.js')}`, import.meta.url)));
  return hash.digest('base64url');
}
