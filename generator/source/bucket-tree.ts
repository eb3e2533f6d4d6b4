// A tree that lives in a bucket (`--target bucket`), read as a TreeSource through the S3 API: the
// commit (staticstreams/live.json, with its ETag for the compare-and-swap) says which
// content-addressed object holds each file a publisher builds on (index.json, its signed forms,
// catalog.json, the state); everything else is read at its own key under the prefix. A bucket
// with no commit yet but a tree (one uploaded before) is read at the fixed names; an empty one
// is no tree (a first publish).

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { ObjectStorageSettings } from '../config/config.js';
import { BuildError } from '../util/errors.js';
import { bucketKey } from '../render/bucket-layout.js';
import { INDEX_PATH } from '../render/streams.js';
import { LIVE_PATH, liveSchema, type Live } from '../formats/live.js';
import type { Bucket } from './bucket.js';
import type { TreeSource } from './source.js';

/** The most a commit or an index-sized file may be (far beyond any real one). */
const LIVE_MAX = 16 * 2 ** 20;
const TEXT_MAX = 512 * 2 ** 20;

export interface BucketTree {
  source: TreeSource;
  /** The commit read, and its ETag (what the next commit must match); null for a bucket with none. */
  live: Live | null;
  etag: string | null;
  /** Whether there is a tree at all (a commit, or an index.json uploaded before). */
  exists: boolean;
}

/** Reads the commit of the tree under `settings.prefix`. */
export async function openBucketTree(bucket: Bucket, settings: ObjectStorageSettings): Promise<BucketTree> {
  const label = `${bucket.label}`;
  const read = await bucket.getText(bucketKey(settings, LIVE_PATH), LIVE_MAX);
  let live: Live | null = null;
  if (read) {
    const parsed = liveSchema.safeParse(JSON.parse(read.text));
    if (!parsed.success)
      throw new BuildError(
        `${label}${LIVE_PATH}: is not a staticstreams commit`,
        'it was written by something else: remove it (the tree is then read at its fixed names), or publish to another prefix',
      );
    live = parsed.data;
  }
  const keyOf = (rel: string) => bucketKey(settings, live?.files[rel] ?? rel);
  const source: TreeSource = {
    label: `${label}`,
    async readText(rel, maxBytes = TEXT_MAX) {
      return (await bucket.getText(keyOf(rel), maxBytes))?.text ?? null;
    },
    async open(rel) {
      return bucket.open(keyOf(rel));
    },
    async place(rel, dest, expected, _memo, held) {
      if (held) await rm(dest, { force: true });
      const body = await bucket.open(keyOf(rel));
      if (!body) throw new BuildError(`${label}${rel}: listed in the tree but missing from the bucket`, 'republish it (clients cannot download it either)');
      const hash = createHash('sha256');
      let size = 0;
      await pipeline(
        body,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const c of chunks) {
            hash.update(c);
            size += c.length;
            yield c;
          }
        },
        createWriteStream(dest),
      );
      const sha256 = hash.digest('hex');
      if (size !== expected.size || sha256 !== expected.sha256) {
        await rm(dest, { force: true });
        throw new BuildError(
          `${label}${rel}: is ${size} bytes with sha256 ${sha256}, the tree lists ${expected.size} bytes with ${expected.sha256}`,
          'republish it',
        );
      }
      return 'downloaded';
    },
  };
  const exists = live !== null || (await bucket.getText(bucketKey(settings, INDEX_PATH), LIVE_MAX)) !== null;
  return { source, live, etag: read?.etag ?? null, exists };
}
