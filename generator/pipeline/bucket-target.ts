// `--target bucket`: the tree lives in the bucket and is served from its public URL; any number
// of publishers, on one machine or many, each publish their own images into it at once. Each run
// reads the live tree from the bucket (its commit, staticstreams/live.json), builds on top of it
// in its own --out (a staging folder: image files go straight to the bucket), and commits with
// compare-and-swap (publish/bucket/commit.ts); when another publisher committed first, it reads
// the tree again, builds its additions on top of that, and tries again — a bounded number of
// times, after a random pause. Before the first commit the store is probed once: one that does
// not refuse a second create-only write would let two publishers overwrite each other.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Config, ObjectStorageSettings } from '../config/config.js';
import { BuildError, UsageError } from '../util/errors.js';
import type { Settings } from '../config/settings.js';
import { bucketKey, bucketLabel } from '../render/bucket-layout.js';
import type { Bucket } from '../source/bucket.js';
import type { BucketCommit, BuildOptions, BuildResult } from './context.js';

/** Commits tried before giving up (each after a re-read and a new plan). */
export const MAX_COMMITS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Whether the store enforces conditional writes: a create-only write of a scratch key twice must
 * be refused the second time (s3rver and GCS's S3 API accept both).
 */
export async function probeConditionalWrites(bucket: Bucket, settings: ObjectStorageSettings): Promise<boolean> {
  const key = bucketKey(settings, `staticstreams/probe-${randomBytes(8).toString('hex')}`);
  const opts = { contentType: 'text/plain', cacheControl: 'no-store', ifNoneMatch: '*' as const };
  try {
    if ((await bucket.putText(key, 'probe 1\n', opts)) === 'precondition') return false;
    return (await bucket.putText(key, 'probe 2\n', opts)) === 'precondition';
  } finally {
    await bucket.remove(key).catch(() => {});
  }
}

/** The build run once per attempt (the build itself, minus this stage): given by build.ts. */
export type BuildOnce = (options: BuildOptions) => Promise<BuildResult>;

export async function buildIntoBucket(options: BuildOptions, settings: Settings, config: Config, once: BuildOnce): Promise<BuildResult> {
  const storage = config.object_storage;
  if (!storage)
    throw new UsageError(
      '--target bucket needs object_storage: in staticstreams.yaml (bucket, public_url, and endpoint or region): the tree is published into that bucket',
    );
  // (prune, withdraw and a mirror name their own output as the previous tree: the bucket's is read instead)
  if (options.previous && path.resolve(options.previous) !== path.resolve(options.out))
    throw new UsageError('--target bucket reads the live tree from the bucket itself: leave out --previous (an empty bucket or prefix is a first publish)');
  const reporter = options.reporter;
  const { openBucket } = await import('../source/bucket.js');
  const { openBucketTree } = await import('../source/bucket-tree.js');
  const { commitToBucket } = await import('../publish/bucket/commit.js');
  const bucket = openBucket(storage);
  try {
    if (storage.publishers !== 'one' && !options.dryRun && !(await probeConditionalWrites(bucket, storage)))
      throw new UsageError(
        `${bucketLabel(storage)}: the store does not refuse a second create-only write (If-None-Match: *): two publishers at once would overwrite each other's commits\n` +
          '  fix: use a store that supports conditional writes (AWS S3, Cloudflare R2, MinIO, Ceph RGW), or promise a single publisher at a time with object_storage.publishers: one',
      );
    let retries = 0;
    for (let attempt = 1; ; attempt++) {
      const tree = await openBucketTree(bucket, storage);
      reporter?.phase(
        `${tree.exists ? 'building on top of' : 'a first publish into'} ${bucket.label}${tree.live ? ` (committed ${tree.live.committed} by ${tree.live.by})` : ''}`,
      );
      const result = await once({
        ...options,
        ...(tree.exists ? { previous: publicTreeUrl(storage), previousSource: tree.source } : {}),
        bucketStage: true,
      });
      if (result.dryRun) return result;
      const listed = new Set([...result.plan.files.map((f) => f.path), ...result.lifecycle.grace.map((g) => g.path)]);
      const commit = await commitToBucket({
        bucket,
        settings: storage,
        out: options.out,
        base: tree,
        listed,
        expired: result.lifecycle.expired.map((e) => e.path),
        graceMs: settings.grace.ms,
        now: settings.now,
        reporter: reporter ?? { phase() {}, progress() {}, warn() {} },
      });
      const done = commit.status !== 'conflict' && (commit.converged || attempt >= MAX_COMMITS);
      if (done) {
        const bucketCommit: BucketCommit = { status: commit.status as BucketCommit['status'], retries, converged: commit.converged, deleted: commit.deleted };
        return { ...result, bucketCommit };
      }
      if (commit.status === 'conflict') retries++;
      if (attempt >= MAX_COMMITS)
        throw new BuildError(
          `${bucket.label}: ${MAX_COMMITS} commits in a row were refused because other publishers committed first`,
          'run it again (nothing of this run is listed yet; its uploads are collected after the grace period), or publish fewer at once',
        );
      // Another publisher committed (or committed after us): read its tree and go again, after a
      // random pause so that publishers who collided do not collide again in step.
      reporter?.phase(
        commit.status === 'conflict'
          ? `another publisher committed first: reading the tree again and adding this run's images on top (try ${attempt + 1})`
          : 'another publisher committed after this one: writing the catalogue again from the newest tree',
      );
      await sleep(200 + Math.floor(Math.random() * 800 * Math.min(attempt, 5)));
    }
  } finally {
    bucket.close();
  }
}

/** Where the tree in the bucket is served (its public URL and prefix): how messages name it. */
export function publicTreeUrl(storage: ObjectStorageSettings): string {
  return `${storage.public_url.replace(/\/+$/, '')}/${storage.prefix}`;
}
