// What the catalogue shows of each product's packages: the newest version's package list and each
// version's changes, read from the planned manifest items (made this run, or the previous tree's),
// each held to its sha256 and checked field by field. A file that cannot be read is left out
// of the catalogue with a warning; the tree itself is not changed by it.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MANIFEST_FTYPES, parseChangesJson, parseManifestJson } from '../formats/manifest.js';
import type { SitePackages } from '../formats/site-input.js';
import type { PlannedFile, PlannedProduct } from '../plan/products.js';
import type { TreeSource } from '../source/source.js';
import type { Reporter } from '../util/reporter.js';
import { mapLimit } from '../util/concurrency.js';

/** Bytes of one manifest item read at most. */
const LIMIT = 64 * 1024 * 1024;

async function textOf(f: PlannedFile, previous: TreeSource | undefined): Promise<string | null> {
  if (f.size > LIMIT) return null;
  const text =
    f.origin.kind === 'made'
      ? f.origin.bytes().toString('utf8')
      : f.origin.kind === 'input'
        ? await readFile(f.origin.path, 'utf8')
        : ((await previous?.readText(f.path, LIMIT)) ?? null);
  if (text === null) return null;
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length === f.size && createHash('sha256').update(bytes).digest('hex') === f.sha256 ? text : null;
}

/** The packages and changes the catalogue shows, read from the products' manifest items. */
export async function readDescriptions(products: PlannedProduct[], previous: TreeSource | undefined, reporter: Reporter): Promise<SitePackages> {
  const out: SitePackages = { packages: {}, changes: {} };
  const jobs: { product: string; version: string; file: PlannedFile; kind: 'list' | 'changes' }[] = [];
  for (const p of products) {
    const newest = [...p.versions].reverse().find((v) => v.items.some((i) => i.ftype === MANIFEST_FTYPES.json));
    const list = newest?.items.find((i) => i.ftype === MANIFEST_FTYPES.json);
    if (newest && list) jobs.push({ product: p.key, version: newest.key, file: list.file, kind: 'list' });
    for (const v of p.versions) {
      const changes = v.items.find((i) => i.ftype === MANIFEST_FTYPES.changes);
      if (changes) jobs.push({ product: p.key, version: v.key, file: changes.file, kind: 'changes' });
    }
  }
  const results = await mapLimit(jobs, 8, async (job) => {
    let text: string | null;
    try {
      text = await textOf(job.file, previous);
    } catch {
      text = null;
    }
    const parsed = text === null ? 'cannot be read, or does not match its sha256' : job.kind === 'list' ? parseManifestJson(text) : parseChangesJson(text);
    if (typeof parsed === 'string') {
      reporter.warn(`${job.file.path} (${job.product} ${job.version}) ${parsed}: the catalogue leaves it out`);
      return;
    }
    if ('packages' in parsed)
      out.packages[job.product] = {
        version: job.version,
        database: parsed.database,
        packages: parsed.packages.map((p) => ({ name: p.name, version: p.version })),
      };
    else
      out.changes[`${job.product} ${job.version}`] = {
        from: parsed.from.version,
        added: parsed.added,
        removed: parsed.removed,
        upgraded: parsed.upgraded,
        downgraded: parsed.downgraded,
      };
  });
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return out;
}
