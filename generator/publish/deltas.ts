// Makes the planned squashfs deltas with xdelta3 (the encoder whose output LXD decodes) and turns
// each into a delta item of its version. A base file from the previous tree is fetched through
// its source first. A delta no smaller than the file it replaces is left out.

import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from '../util/errors.js';
import { sha256Of } from '../fingerprint/stream-sha256.js';
import { mapLimit } from '../util/concurrency.js';
import type { DeltaJob } from '../plan/deltas.js';
import type { PlannedFile, PlannedItem, PlannedProduct } from '../plan/products.js';
import type { TreeSource } from '../source/source.js';
import { changeVersions, localFiles } from './derived.js';
import { byKey } from '../util/compare.js';

const run = promisify(execFile);

export interface DeltaResult {
  products: PlannedProduct[];
  made: { product: string; version: string; base: string; size: number; of: number }[];
  /** `product version`: deltas left out because they were not smaller than the file. */
  notSmaller: string[];
  /** Removes the scratch folder (after the files are placed). */
  cleanup(): Promise<void>;
}

export async function checkXdelta3(): Promise<void> {
  try {
    await run('xdelta3', ['-V']);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(
        'deltas (--deltas, or deltas: true in the config) need xdelta3: install it (Debian/Ubuntu: apt install xdelta3), or build without deltas',
      );
    // xdelta3 -V exits non-zero on some builds; it is there
  }
}

export async function makeDeltas(products: PlannedProduct[], jobs: DeltaJob[], previous: TreeSource | undefined): Promise<DeltaResult> {
  // Absolute even with a relative TMPDIR: the deltas are linked while the site build has moved
  // the current folder (publish/site.ts).
  const scratch = await mkdtemp(path.join(path.resolve(os.tmpdir()), 'staticstreams-deltas-'));
  const cleanup = () => rm(scratch, { recursive: true, force: true });
  const made: DeltaResult['made'] = [];
  const notSmaller: string[] = [];
  const items = new Map<string, PlannedItem>(); // "product version" → its delta item
  try {
    const local = localFiles(previous, scratch);
    const results = await mapLimit(jobs, 2, async (job, n) => {
      const from = await local(job.from, `base-${n}`);
      const to = await local(job.to, `target-${n}`);
      const out = path.join(scratch, `delta-${n}.vcdiff`);
      await run('xdelta3', ['-e', '-f', '-s', from, to, out], { maxBuffer: 1 << 20 });
      const { size } = await stat(out);
      if (size >= job.to.size) {
        notSmaller.push(`${job.product} ${job.version}`);
        return;
      }
      const { sha256 } = await sha256Of(createReadStream(out));
      const file: PlannedFile = {
        origin: { kind: 'input', path: out, rel: `delta of ${job.to.path} from ${job.base}` },
        path: `${job.dir}/delta-${job.base}-${sha256.slice(0, 16)}.squashfs.vcdiff`,
        sha256,
        size,
      };
      items.set(`${job.product} ${job.version}`, { key: `squashfs.vcdiff.${job.base}`, ftype: 'squashfs.vcdiff', file, combined: {}, deltaBase: job.base });
      made.push({ product: job.product, version: job.version, base: job.base, size, of: job.to.size });
    });
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  } catch (e) {
    await cleanup();
    throw e;
  }
  const withDeltas = changeVersions(products, items, (v, item) => ({ ...v, items: [...v.items, item].sort(byKey) }));
  return { products: withDeltas, made, notSmaller, cleanup };
}
