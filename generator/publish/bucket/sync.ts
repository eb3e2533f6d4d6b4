// Brings the bucket in line with a planned tree: uploads the image files it lacks (new files
// from the images folder; files of the previous tree that never reached it), verifies each
// upload, and deletes expired files. Runs before the static output is swapped in, so a failure
// publishes nothing.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorageSettings } from '../../config/config.js';
import { BuildError, BuildFailed } from '../../util/errors.js';
import { mapLimit } from '../../util/concurrency.js';
import type { PlannedFile } from '../../plan/products.js';
import type { TreeSource } from '../../source/source.js';
import type { Reporter } from '../../util/reporter.js';
import { count, formatBytes } from '../../util/format.js';
import { BLOB_DIR, bucketKey } from '../../render/bucket-layout.js';
import { planBucketSync } from './plan.js';
import type { Bucket } from '../../source/bucket.js';

export interface BucketStats {
  bucket: string;
  uploaded: number;
  bytesUploaded: number;
  /** Files the bucket already held with the right size (and, for new files, the right sha256). */
  alreadyThere: number;
  /** Expired files deleted from the bucket. */
  removed: string[];
  verify: ObjectStorageSettings['verify'];
}

export interface SyncOptions {
  settings: ObjectStorageSettings;
  /** Every file the new tree lists or keeps for its grace period. */
  files: PlannedFile[];
  /** Output paths whose grace period is over. */
  expired: string[];
  previous?: TreeSource;
  /** A folder for files of a previous tree that must pass through this machine. */
  scratch: string;
  reporter: Reporter;
}

function throwFirst(results: PromiseSettledResult<unknown>[]): void {
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failed.length === 0) return;
  const reportable = failed.filter((e): e is BuildError => e instanceof BuildError);
  if (reportable.length === failed.length) throw new BuildFailed(reportable);
  throw failed.find((e) => !(e instanceof BuildError));
}

/** Uploads what is missing; returns the stats and the keys of expired files, for removeExpired(). */
export async function syncBucket(bucket: Bucket, opts: SyncOptions): Promise<{ stats: BucketStats; remove: string[] }> {
  const { settings, reporter } = opts;
  reporter.phase(`listing ${bucket.label}${BLOB_DIR}`);
  const existing = await bucket.list(bucketKey(settings, BLOB_DIR));
  const plan = planBucketSync(settings, opts.files, existing, opts.expired);
  if (plan.problems.length) throw new BuildFailed(plan.problems);
  const stats: BucketStats = { bucket: bucket.label, uploaded: 0, bytesUploaded: 0, alreadyThere: plan.present.length, removed: [], verify: settings.verify };

  // A new file whose key already holds an object of its size: a rerun after a failed publish, or other bytes.
  const upload = [...plan.upload];
  throwFirst(
    await mapLimit(plan.confirm, settings.concurrency, async (f) => {
      const key = bucketKey(settings, f.path);
      const head = await bucket.head(key);
      let sha256 = head?.sha256;
      if (head && sha256 === undefined && settings.verify === 'read-back') sha256 = (await bucket.read(key)).sha256;
      if (sha256 === f.sha256) stats.alreadyThere++;
      else {
        if (head)
          reporter.warn(
            `${bucket.label}${f.path} holds other bytes${sha256 ? ` (sha256 ${sha256})` : ''}: replacing them with ${f.origin.kind === 'previous' ? f.path : f.origin.rel}`,
          );
        upload.push(f);
      }
    }),
  );

  const total = upload.reduce((n, f) => n + f.size, 0);
  if (upload.length) reporter.phase(`uploading ${count(upload.length, 'file')}, ${formatBytes(total)}, to ${bucket.label}`);
  let done = 0;
  await mkdir(opts.scratch, { recursive: true });
  let n = 0;
  throwFirst(
    await mapLimit(upload, settings.concurrency, async (f) => {
      const key = bucketKey(settings, f.path);
      let from: string;
      let temporary = false;
      if (f.origin.kind === 'input') from = f.origin.path;
      else if (f.origin.kind === 'made') {
        from = path.join(opts.scratch, String(n++));
        await writeFile(from, f.origin.bytes());
        temporary = true;
      } else {
        // Listed by the previous tree but not in the bucket (it was published without object storage).
        if (!opts.previous)
          throw new BuildError(
            `${f.path}: a file of the previous tree is not in ${bucket.label}`,
            'give the previous tree with --previous so it can be uploaded',
          );
        from = path.join(opts.scratch, String(n++));
        await opts.previous.place(f.path, from, f);
        temporary = true;
      }
      try {
        await bucket.upload(key, from, f, (bytes) => reporter.progress('uploading', (done += bytes), total, f.path));
      } finally {
        if (temporary) await rm(from, { force: true });
      }
      await verifyUpload(bucket, settings, key, f, reporter);
      stats.uploaded++;
      stats.bytesUploaded += f.size;
    }),
  );
  return { stats, remove: plan.remove };
}

/**
 * Size and recorded sha256 from a HEAD; with read-back, the bytes themselves. A store that does not
 * return user metadata (some S3-compatible ones) is checked by size, and by read-back when on.
 */
async function verifyUpload(bucket: Bucket, settings: ObjectStorageSettings, key: string, f: PlannedFile, reporter: Reporter): Promise<void> {
  const head = await bucket.head(key);
  const problem = !head
    ? 'it is not there'
    : head.size !== f.size
      ? `it is ${head.size} bytes, not ${f.size}`
      : head.sha256 !== undefined && head.sha256 !== f.sha256
        ? `its recorded sha256 is ${head.sha256}`
        : undefined;
  if (!problem && head?.sha256 === undefined && settings.verify === 'size') {
    reporter.warn(
      `${bucket.label}${f.path}: the store returned no x-amz-meta-sha256, so only the size was checked (set object_storage.verify: read-back to hash it)`,
    );
  }
  let readBack: string | undefined;
  if (!problem && settings.verify === 'read-back') {
    const got = await bucket.read(key);
    if (got.size !== f.size || got.sha256 !== f.sha256) readBack = `reading it back gave ${got.size} bytes with sha256 ${got.sha256}`;
  }
  const why = problem ?? readBack;
  if (why)
    throw new BuildError(
      `${bucket.label}${f.path}: the upload did not verify: ${why} (expected ${f.size} bytes, sha256 ${f.sha256})`,
      'the store changed or lost the bytes in transit: run the build again; if it repeats, check the endpoint and any proxy in between',
    );
}

/** Deletes the expired files `keys` (after everything new is in place). */
export async function removeExpired(bucket: Bucket, keys: string[], concurrency: number): Promise<void> {
  throwFirst(await mapLimit(keys, concurrency, (key) => bucket.remove(key)));
}
