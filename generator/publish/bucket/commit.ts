// Publishing a built tree into the bucket it lives in (`--target bucket`), safely beside any
// number of other publishers:
//   1. the files nobody else writes with other bytes — content-addressed products files and their
//      signatures, the site's hashed assets, this commit's copies of index.json, its signed forms,
//      catalog.json and the state — go up first (image files went up with the build);
//   2. the commit: staticstreams/live.json written with compare-and-swap on the ETag the build
//      read (create-only for a first publish); a 412 means another publisher committed first: the
//      caller re-reads the tree, re-applies its additions on top and tries again;
//   3. the fixed-name files clients read (index.json and the rest, the catalogue's pages) are
//      brought in line with the commit, as long as it is still the newest (a newer publisher's
//      own pass takes over otherwise);
//   4. deletions: files whose grace period is over, and files no commit lists that have sat
//      there past the grace period (uploads of a publisher that lost or died) — only while the
//      commit is still the newest, checked again right before.
// A publisher killed at any point leaves the tree clients read whole: the one before its commit,
// or its own; the next run finishes what it left.

import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ObjectStorageSettings } from '../../config/config.js';
import { bucketKey, BLOB_DIR } from '../../render/bucket-layout.js';
import { cacheRulesAt, SHORT, IMMUTABLE } from '../../render/cdn/cache-rules.js';
import { headersAt } from '../../render/cdn/cache-rules.js';
import { contentTypeOf } from '../../render/cdn/content-types.js';
import { HOST_FILES } from '../../render/cdn/hidden.js';
import { INDEX_PATH } from '../../render/streams.js';
import { STATE_PATH } from '../../formats/state.js';
import { committedPathOf, LIVE_PATH, COMMITTED_DIR, renderLive, type Live } from '../../formats/live.js';
import type { Bucket, ListedObject } from '../../source/bucket.js';
import type { Reporter } from '../../util/reporter.js';
import { mapLimit } from '../../util/concurrency.js';
import { count } from '../../util/format.js';
import { BuildError } from '../../util/errors.js';

/** The files a publisher builds on: committed by content-addressed copies named in live.json. */
export const COMMITTED_FILES = [INDEX_PATH, 'streams/v1/index.sjson', 'streams/v1/index.json.gpg', 'catalog.json', STATE_PATH];

/** Files written once under a name their content decides: uploaded before the commit, never rewritten. */
const IMMUTABLE_FILE = /^(?:streams\/v1\/images-[0-9a-f]+\.(?:json|sjson|json\.gpg)|_astro\/|pagefind\/(?:fragment|index)\/)/;

/** Orphans (uploads no commit lists) are left at least this long: another publisher may be about to commit them. */
const ORPHAN_MIN_AGE_MS = 3_600_000;

export interface CommitInput {
  bucket: Bucket;
  settings: ObjectStorageSettings;
  /** The tree as built locally: every file but the image files (already in the bucket). */
  out: string;
  /** The commit the build read (its ETag), or none (a first publish). */
  base: { live: Live | null; etag: string | null };
  /** Image files (and other files in images/) the tree lists or keeps for its grace period. */
  listed: ReadonlySet<string>;
  /** Paths whose grace period is over. */
  expired: readonly string[];
  graceMs: number;
  now: Date;
  reporter: Reporter;
}

export interface CommitResult {
  /** committed: a new commit; unchanged: the tree already was this one; conflict: another publisher committed first. */
  status: 'committed' | 'unchanged' | 'conflict';
  /** The fixed-name files were brought in line, and no newer commit appeared meanwhile. */
  converged: boolean;
  uploaded: number;
  deleted: string[];
}

/** Every file of the local tree (relative paths), but the host files other targets read. */
async function localFiles(out: string): Promise<string[]> {
  const entries = await readdir(out, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(out, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .filter((rel) => !(HOST_FILES as readonly string[]).includes(rel) && !rel.startsWith('.'))
    .sort();
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** Content-Type and Cache-Control of a tree file, as the other hosts' rules give its path. */
function headersOf(rel: string): { contentType: string; cacheControl: string } {
  const rules = headersAt(cacheRulesAt(''), `/${rel}`);
  return { contentType: contentTypeOf(rel), cacheControl: rules['Cache-Control'] ?? (IMMUTABLE_FILE.test(rel) ? IMMUTABLE : SHORT) };
}

export async function commitToBucket(input: CommitInput): Promise<CommitResult> {
  const { bucket, settings, reporter } = input;
  const key = (rel: string) => bucketKey(settings, rel);
  const files = await localFiles(input.out);
  const read = (rel: string) => readFile(path.join(input.out, rel));
  reporter.phase(`listing ${bucket.label}`);
  const listing = await bucket.listDetailed(settings.prefix);
  const result: CommitResult = { status: 'unchanged', converged: false, uploaded: 0, deleted: [] };
  const put = async (rel: string, at: string, body: Buffer, cond: { ifNoneMatch?: '*' } = {}) => {
    const done = await bucket.putText(at, body, { ...headersOf(rel), ...cond });
    if (done !== 'precondition') result.uploaded++;
    return done;
  };

  // 1. What nobody else writes with other bytes, and this commit's copies of the files it names.
  const committed: Record<string, string> = {};
  const pre: [string, string, Buffer][] = [];
  for (const rel of COMMITTED_FILES.filter((f) => files.includes(f))) {
    const body = await read(rel);
    committed[rel] = committedPathOf(body);
    if (!listing.has(key(committed[rel]))) pre.push([rel, key(committed[rel]), body]);
  }
  for (const rel of files.filter((f) => IMMUTABLE_FILE.test(f) && !listing.has(key(f)))) pre.push([rel, key(rel), await read(rel)]);
  const same = input.base.live !== null && JSON.stringify(Object.entries(input.base.live.files).sort()) === JSON.stringify(Object.entries(committed).sort());
  if (pre.length) reporter.phase(`uploading ${count(pre.length, 'file')} the commit names to ${bucket.label}`);
  fail(await mapLimit(pre, settings.concurrency, ([rel, at, body]) => put(rel, at, body, { ifNoneMatch: '*' })));

  // 2. The commit, unless the tree already is this one.
  let etag = input.base.etag;
  if (!same) {
    const text = renderLive(committed, input.now, `${os.hostname()} pid ${process.pid}`);
    const cond = input.base.etag ? { ifMatch: input.base.etag } : { ifNoneMatch: '*' as const };
    reporter.phase(`committing to ${bucket.label}${LIVE_PATH}`);
    const done = await bucket.putText(key(LIVE_PATH), text, { contentType: 'application/json', cacheControl: 'no-cache', ...cond });
    if (done === 'precondition') return { ...result, status: 'conflict' };
    etag = done;
    result.status = 'committed';
  }
  const stillNewest = async () => (await bucket.getText(key(LIVE_PATH), 16 * 2 ** 20))?.etag === etag;

  // 3. The fixed-name files, in an order clients can follow at any moment: what the index names
  // first, the index and its signatures, then the catalogue (its data, then its pages).
  const changed: string[] = [];
  for (const rel of files) {
    if (IMMUTABLE_FILE.test(rel)) continue;
    const have = listing.get(key(rel));
    if (!have || have.etag !== md5(await read(rel))) changed.push(rel);
  }
  const rank = (rel: string) =>
    rel.startsWith('streams/') && !COMMITTED_FILES.includes(rel) ? 0 : rel.startsWith('meta/') ? 1 : COMMITTED_FILES.includes(rel) ? 2 : 3;
  changed.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  if (changed.length) reporter.phase(`bringing ${count(changed.length, 'file')} of ${bucket.label} in line with the commit`);
  for (let i = 0; i < changed.length; i += BATCH) {
    if (!(await stillNewest())) return result; // a newer commit: its publisher brings them in line
    fail(await mapLimit(changed.slice(i, i + BATCH), settings.concurrency, async (rel) => put(rel, key(rel), await read(rel))));
  }
  if (!(await stillNewest())) return result;
  result.converged = true;

  // 4. Deletions, only while this commit is the newest.
  const keep = new Set([...files.map(key), ...[...input.listed].map(key), key(LIVE_PATH), ...Object.values(committed).map(key)]);
  const doomed = new Set(input.expired.map(key));
  const orphanAge = Math.max(input.graceMs, ORPHAN_MIN_AGE_MS);
  for (const [k, o] of listing) if (!keep.has(k) && isOurs(k, settings) && old(o, input.now, orphanAge)) doomed.add(k);
  for (const k of keep) doomed.delete(k);
  if (doomed.size && (await stillNewest())) {
    reporter.phase(`deleting ${count(doomed.size, 'file')} no commit lists from ${bucket.label}`);
    fail(await mapLimit([...doomed].sort(), settings.concurrency, (k) => bucket.remove(k)));
    result.deleted = [...doomed].sort();
  }
  return result;
}

/** Fixed-name files are written this many at a time between two checks that the commit is still the newest. */
const BATCH = 200;

const old = (o: ListedObject, now: Date, ms: number) => now.getTime() - o.modified.getTime() > ms;

/** What a build of ours writes under the prefix (and so may collect): the tree's folders and files, and the committed copies. */
function isOurs(k: string, settings: ObjectStorageSettings): boolean {
  const rel = k.slice(settings.prefix.length);
  return rel.startsWith(BLOB_DIR) || rel.startsWith('streams/') || rel.startsWith(COMMITTED_DIR) || rel.startsWith('_astro/') || rel.startsWith('pagefind/');
}

function fail(results: PromiseSettledResult<unknown>[]): void {
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason instanceof Error ? failed.reason : new BuildError(String(failed.reason), 'try again');
}
