// Places image files into the output tree: input files as a hard link when input and output
// share a filesystem (no bytes copied), else a copy (reflink where the filesystem can); files
// of the previously published tree through its source (link, copy, or download with a check).
// In a reused staging folder a file already there as that very file (same inode) is kept.

import { statSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PlannedFile } from '../plan/products.js';
import type { HashMemo, TreeSource } from '../source/source.js';
import type { Reporter } from '../util/reporter.js';
import { mapLimit } from '../util/concurrency.js';
import { linkOrCopy, sameFile, type Identity } from '../util/fs.js';

export interface PlaceStats {
  linked: number;
  copied: number;
  bytesCopied: number;
  /** Files fetched from a previous tree given as a URL, and their bytes. */
  downloaded: number;
  bytesDownloaded: number;
}

/** Resolves an output-relative path inside `root`, refusing anything that would escape it. */
export function insideRoot(root: string, rel: string): string {
  const full = path.resolve(root, rel);
  if (!full.startsWith(path.resolve(root) + path.sep)) throw new Error(`refusing to write outside the output folder: ${rel}`);
  return full;
}

type InputOrigin = Extract<PlannedFile['origin'], { kind: 'input' }>;

/** "dev:ino" of files whose link count a build changed (their ctime moved: see fingerprint/cache). */
export type Touched = Set<string>;
const touch = (touched: Touched | undefined, id: Identity) => touched?.add(`${id.dev}:${id.ino}`);

async function placeInput(origin: InputOrigin, dest: string, size: number, stats: PlaceStats, held?: Identity, touched?: Touched): Promise<void> {
  const { path: from, rel } = origin;
  // The identity the input was hashed under (its stat when that is not known).
  const { dev, ino } = origin;
  const id = () => (dev !== undefined && ino !== undefined ? { dev, ino } : statSync(from));
  if (held) {
    if (sameFile(id(), held)) {
      stats.linked++; // already there: a hard link of the input since an earlier build
      return;
    }
    await rm(dest, { force: true });
    touch(touched, held);
  }
  if ((await linkOrCopy(from, dest)) === 'linked') {
    stats.linked++;
    if (touched) touch(touched, id());
    return; // the same inode: nothing to compare
  }
  stats.copied++;
  stats.bytesCopied += size;
  const placed = await stat(dest);
  if (placed.size !== size) throw new Error(`${rel} changed while the build ran (was ${size} bytes, now ${placed.size})`);
}

/**
 * Links (or copies, or downloads) every planned file into `root`, several at a time; `held` is
 * what a reused staging folder already holds (see output/spare.ts); `touched` collects the files
 * linked or unlinked.
 */
export async function placeFiles(
  root: string,
  files: PlannedFile[],
  previous?: TreeSource,
  memo?: HashMemo,
  held: ReadonlyMap<string, Identity> = new Map(),
  touched?: Touched,
  reporter?: Reporter,
): Promise<PlaceStats> {
  const stats: PlaceStats = { linked: 0, copied: 0, bytesCopied: 0, downloaded: 0, bytesDownloaded: 0 };
  // Progress through the previous tree's files (on a terminal): downloads, or files reused instead.
  const fromPrevious = files.filter((f) => f.origin.kind === 'previous');
  const total = fromPrevious.reduce((n, f) => n + f.size, 0);
  let done = 0;
  const dirs = new Map<string, Promise<unknown>>();
  // Many links and folders in flight: file-system latency, not CPU, bounds a tree of small files.
  const results = await mapLimit(files, 64, async (f) => {
    const dest = insideRoot(root, f.path);
    const dir = path.dirname(dest);
    const there = held.get(f.path);
    if (!there) {
      let made = dirs.get(dir);
      if (!made) dirs.set(dir, (made = mkdir(dir, { recursive: true })));
      await made;
    }
    if (f.origin.kind === 'input') return placeInput(f.origin, dest, f.size, stats, there, touched);
    if (!previous) throw new Error(`${f.path}: a file of the previous tree, but no previous tree was given`);
    const how = await previous.place(f.path, dest, f, memo, there);
    if (how !== 'kept' && there) touch(touched, there);
    if (how === 'linked' && touched) touch(touched, statSync(dest)); // no stat when nobody counts
    if (how === 'linked' || how === 'kept') stats.linked++;
    else if (how === 'copied') {
      stats.copied++;
      stats.bytesCopied += f.size;
    } else {
      stats.downloaded++;
      stats.bytesDownloaded += f.size;
    }
    done += f.size;
    reporter?.progress(`placing the previous tree's files (${stats.downloaded} downloaded)`, done, total, f.path);
  });
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return stats;
}
