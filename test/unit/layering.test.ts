// Keeps the layering of generator/: one verb per folder, imports pointing down only, no import
// cycles, nothing of site/ or test/ imported by the generator, the site importing only the
// formats it shares with it, and every module of the pure core imported by a unit test. Imports
// are read with TypeScript's own pre-processor.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve('generator');
const SITE = path.resolve('site');

/** Lowest first: a folder may import its own layer and the layers below it. */
export const LAYERS: string[][] = [
  ['simplestreams', 'util'], // the wire format and leaf helpers: import nothing of ours above
  ['signing'], // OpenPGP keys, signatures, keyrings (openpgp.js)
  ['formats'], // our own files (catalog, state, site input), shared with site/
  ['config'],
  ['ingest'],
  ['pool'],
  ['fingerprint'],
  ['plan'], // pure
  ['render'], // pure
  ['source'], // reading a published tree, from a folder or a URL
  ['publish'], // the only writer
  ['serve'],
  ['inspect'],
  ['pipeline'],
  ['cli'],
  ['.'], // index.ts: the library API
];
const rank = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));

function sources(dir: string, exts: string[]): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && exts.some((x) => e.name.endsWith(x)))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`) && !f.includes(`${path.sep}.astro${path.sep}`));
}

/** Relative imports of `file`, resolved to the .ts files they name. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const code = file.endsWith('.astro') ? (/^---\n([\s\S]*?)\n---/.exec(text)?.[1] ?? '') : text;
  return ts
    .preProcessFile(code, true, true)
    .importedFiles.map((i) => i.fileName)
    .filter((f) => f.startsWith('.'))
    .map((f) => path.resolve(path.dirname(file), f).replace(/\.js$/, '.ts'));
}

const folderOf = (file: string) => {
  const rel = path.relative(ROOT, file).split(path.sep);
  return rel.length > 1 ? rel[0]! : '.';
};

describe('layering of generator/', () => {
  const files = sources(ROOT, ['.ts']);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('every folder is a known layer', () => {
    for (const f of files) assert.ok(rank.has(folderOf(f)), `${path.relative(ROOT, f)}: folder ${folderOf(f)} is in no layer (add it to LAYERS)`);
  });

  it('imports point down (or within a layer) and stay inside generator/', () => {
    const wrong: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        const where = `${path.relative(ROOT, file)} → ${path.relative(ROOT, dep)}`;
        if (!dep.startsWith(ROOT + path.sep)) wrong.push(`${where}: outside generator/`);
        else if (rank.get(folderOf(dep))! > rank.get(folderOf(file))!) wrong.push(`${where}: points up (${folderOf(file)} is below ${folderOf(dep)})`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('has no import cycles', () => {
    // Tarjan's strongly connected components over the file graph.
    let next = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const cycles: string[] = [];
    const visit = (v: string) => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const component: string[] = [];
        let w: string;
        do component.push((w = stack.pop()!));
        while (w !== v);
        if (component.length > 1)
          cycles.push(
            component
              .map((c) => path.relative(ROOT, c))
              .sort()
              .join(' ↔ '),
          );
      }
    };
    for (const v of graph.keys()) if (!index.has(v)) visit(v);
    assert.deepEqual(cycles, []);
  });

  it('the simplestreams format module imports nothing else of ours', () => {
    for (const [file, deps] of graph) {
      if (folderOf(file) !== 'simplestreams') continue;
      for (const dep of deps) assert.equal(folderOf(dep), 'simplestreams', `${path.relative(ROOT, file)} imports ${path.relative(ROOT, dep)}`);
    }
  });

  it('the site imports only what it shares with the generator (formats, util, simplestreams)', () => {
    const wrong: string[] = [];
    for (const file of sources(SITE, ['.ts', '.astro', '.mjs'])) {
      for (const dep of importsOf(file)) {
        if (dep.startsWith(SITE + path.sep)) continue;
        if (!dep.startsWith(ROOT + path.sep) || !['formats', 'util', 'simplestreams'].includes(folderOf(dep)))
          wrong.push(`${path.relative(SITE, file)} → ${path.relative(path.dirname(SITE), dep)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('every module of the pure core (simplestreams/, config/, plan/, render/) is imported by a unit test of its own layer', () => {
    const unit = path.resolve('test/unit');
    const tested = new Set(sources(unit, ['.ts']).flatMap((f) => importsOf(f)));
    const untested = files
      .filter((f) => ['simplestreams', 'config', 'plan', 'render'].includes(folderOf(f)))
      .filter((f) => !tested.has(f))
      .map((f) => path.relative(ROOT, f));
    assert.deepEqual(untested, [], 'write test/unit/<module>.test.ts for each (table-driven where the module is a list of cases)');
  });

  it('a published tree is read in one place (source/tree.ts): inspect/ and pipeline/ read no index or products file themselves', () => {
    const readers = files
      .filter((f) => ['inspect', 'pipeline'].includes(folderOf(f)))
      .filter((f) => /acceptedIndexSchema|readText\(INDEX_PATH|(?<![.\w])get\(INDEX_PATH|productsFiles\s*=\s*new Map/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(ROOT, f));
    assert.deepEqual(readers, [], 'read trees with readTree (source/tree.ts), strict or report');
  });
});
