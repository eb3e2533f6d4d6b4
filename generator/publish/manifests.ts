// Writes the planned manifest files (package lists, SBOMs, changes) to a scratch folder and adds
// each as an item of its version, placed in the output like any other file.

import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ManifestJob } from '../plan/manifests.js';
import type { PlannedItem, PlannedProduct } from '../plan/products.js';
import { changeVersions } from './derived.js';
import { byKey } from '../util/compare.js';

export interface ManifestResult {
  products: PlannedProduct[];
  /** Removes the scratch folder (after the files are placed). */
  cleanup(): Promise<void>;
}

export async function makeManifests(products: PlannedProduct[], jobs: ManifestJob[]): Promise<ManifestResult> {
  const scratch = await mkdtemp(path.join(path.resolve(os.tmpdir()), 'staticstreams-manifests-'));
  const cleanup = () => rm(scratch, { recursive: true, force: true });
  const items = new Map<string, PlannedItem[]>();
  try {
    let n = 0;
    for (const job of jobs) {
      const made: PlannedItem[] = [];
      for (const f of job.files()) {
        const local = path.join(scratch, `${n++}`);
        writeFileSync(local, f.bytes); // (synchronous: thousands of small files, a fraction of the cost through the thread pool)
        made.push({
          key: f.ftype,
          ftype: f.ftype,
          file: {
            origin: { kind: 'input', path: local, rel: `${f.ftype} of ${job.product} ${job.version}` },
            path: f.path,
            sha256: f.sha256,
            size: f.bytes.length,
          },
          combined: {},
        });
      }
      items.set(`${job.product} ${job.version}`, made);
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { products: changeVersions(products, items, (v, made) => ({ ...v, items: [...v.items, ...made].sort(byKey) })), cleanup };
}
