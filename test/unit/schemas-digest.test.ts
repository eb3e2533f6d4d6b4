// formats/schemas-digest: the digest under which rendered parts count as proven must cover every
// module the validation runs — the schemas, everything they import (followed to the end), and
// the part-by-part check — or a change to one of them would leave old proofs standing.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { SCHEMA_MODULES, schemasDigest } from '../../generator/formats/schemas-digest.js';

const ROOT = path.resolve('generator');

/** generator/-relative .ts modules `rel` imports, followed to the end (relative imports only). */
function closure(start: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (rel: string) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const file = path.join(ROOT, rel);
    for (const i of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!i.fileName.startsWith('.')) continue;
      visit(path.relative(ROOT, path.resolve(path.dirname(file), i.fileName)).replace(/\.js$/, '.ts'));
    }
  };
  start.forEach(visit);
  return seen;
}

describe('the schemas digest', () => {
  it('covers every module the validation imports', () => {
    // What render/streams and render/catalog validate with.
    const used = closure(['simplestreams/schema.ts', 'formats/catalog.ts', 'util/check-parts.ts']);
    const missing = [...used].filter((m) => !SCHEMA_MODULES.includes(m));
    assert.deepEqual(missing, [], 'add them to SCHEMA_MODULES in generator/formats/schemas-digest.ts');
  });

  it('is stable, and names files that exist', () => {
    assert.equal(schemasDigest(), schemasDigest());
    assert.match(schemasDigest(), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(SCHEMA_MODULES.includes('simplestreams/version-key.ts'));
  });
});
