// Adds the planned manifest files (package lists, SBOMs, changes) as items of their versions:
// files this build makes, written into the output with the rest (publish/blobs).

import type { ManifestFile, ManifestJob } from '../plan/manifests.js';
import type { PlannedItem, PlannedProduct } from '../plan/products.js';
import { changeVersions } from './derived.js';
import { byKey } from '../util/compare.js';

/**
 * The products with each job's files as items of their version. A file's bytes are made here to
 * name and hash it, then dropped, and made again when it is written (a version's files are made
 * together, one version at a time): thousands of SBOMs are never all in memory.
 */
export function makeManifests(products: PlannedProduct[], jobs: ManifestJob[]): PlannedProduct[] {
  let last: { job: ManifestJob; files: ManifestFile[] } | undefined;
  const bytesOf = (job: ManifestJob, ftype: string) => (): Buffer => {
    if (last?.job !== job) last = { job, files: job.files() };
    return last.files.find((f) => f.ftype === ftype)!.bytes;
  };
  const items = new Map<string, PlannedItem[]>();
  for (const job of jobs) {
    const made: PlannedItem[] = job.files().map((f) => ({
      key: f.ftype,
      ftype: f.ftype,
      file: {
        origin: { kind: 'made', rel: `${f.ftype} of ${job.product} ${job.version}`, bytes: bytesOf(job, f.ftype) },
        path: f.path,
        sha256: f.sha256,
        size: f.bytes.length,
      },
      combined: {},
    }));
    items.set(`${job.product} ${job.version}`, made);
  }
  return changeVersions(products, items, (v, made) => ({ ...v, items: [...v.items, ...made].sort(byKey) }));
}
