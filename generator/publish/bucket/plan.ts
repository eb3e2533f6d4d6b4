// What one run does to the bucket (pure): which image files to upload, which are already there,
// which need their content confirmed first, and which expired files to delete.

import { BuildError } from '../../util/errors.js';
import type { PlannedFile } from '../../plan/products.js';
import type { ObjectStorageSettings } from '../../config/config.js';
import { bucketKey, bucketLabel, isBucketFile } from '../../render/bucket-layout.js';

export interface BucketSyncPlan {
  /** Not in the bucket (or in it with other bytes, for a new file): upload. */
  upload: PlannedFile[];
  /** New files whose key holds an object of the same size: compare sha256 before skipping. */
  confirm: PlannedFile[];
  /** Files of the previous tree already in the bucket with their size: nothing to do. */
  present: PlannedFile[];
  /** Keys of expired files to delete. */
  remove: string[];
  problems: BuildError[];
}

/**
 * `files`: everything the new tree lists or keeps in grace; `existing`: key → size of what the
 * bucket holds under the prefix; `expired`: output paths whose grace period is over.
 */
export function planBucketSync(
  settings: ObjectStorageSettings,
  files: PlannedFile[],
  existing: ReadonlyMap<string, number>,
  expired: readonly string[],
): BucketSyncPlan {
  const plan: BucketSyncPlan = { upload: [], confirm: [], present: [], remove: [], problems: [] };
  const kept = new Set<string>();
  for (const f of files) {
    if (!isBucketFile(f.path) || kept.has(f.path)) continue;
    kept.add(f.path);
    const size = existing.get(bucketKey(settings, f.path));
    if (size === undefined) plan.upload.push(f);
    else if (f.origin.kind !== 'previous') (size === f.size ? plan.confirm : plan.upload).push(f);
    else if (size === f.size) plan.present.push(f);
    else {
      plan.problems.push(
        new BuildError(
          `${bucketLabel(settings)}${f.path} is ${size} bytes, but the published tree lists it with ${f.size}`,
          'the bucket no longer holds what the live index promises: upload the right file to that key by hand, or drop that version (prune with --retain / --retain-days) and republish',
          [f.path],
        ),
      );
    }
  }
  for (const rel of expired) {
    const key = bucketKey(settings, rel);
    if (isBucketFile(rel) && !kept.has(rel) && existing.has(key)) plan.remove.push(key);
  }
  plan.remove.sort();
  return plan;
}
