// Places image files into the output tree: input files as a hard link when input and output
// share a filesystem (no bytes copied), else a copy (reflink where the filesystem can); files
// of the previously published tree through its source (link, copy, or download with a check).
// In a reused staging folder a file already there as that very file (same inode) is kept.

import { constants, mkdirSync, rmSync, statSync } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PlannedFile } from '../plan/products.js';
import type { HashMemo, TreeSource } from '../source/source.js';
import type { Reporter } from '../util/reporter.js';
import { mapLimit } from '../util/concurrency.js';
import { createFileSync, linkSync, sameFile, type Identity } from '../util/fs.js';

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

/**
 * Places an input as a hard link, synchronously: false when it must be copied instead (another
 * file system), for placeInput. A link is one system call; a few thousand took ~0.2 s one after
 * another here, and ~1.1 s as promises through the thread pool.
 */
function linkInput(origin: InputOrigin, dest: string, stats: PlaceStats, dirs: Set<string>, held?: Identity, touched?: Touched): boolean {
  const { path: from, dev, ino } = origin;
  // The identity the input was hashed under (its stat when that is not known).
  const id = () => (dev !== undefined && ino !== undefined ? { dev, ino } : statSync(from));
  if (held) {
    if (sameFile(id(), held)) {
      stats.linked++; // already there: a hard link of the input since an earlier build
      return true;
    }
    rmSync(dest, { force: true });
    touch(touched, held);
  } else {
    const dir = path.dirname(dest);
    if (!dirs.has(dir)) mkdirSync(dir, { recursive: true });
    dirs.add(dir);
  }
  if (!linkSync(from, dest)) return false;
  stats.linked++;
  if (touched) touch(touched, id());
  return true;
}

/** A file this build makes, written (synchronously: thousands of small ones). */
function writeMade(bytes: Buffer, dest: string, size: number, stats: PlaceStats): void {
  if (bytes.length !== size) throw new Error(`${dest}: made ${bytes.length} bytes, planned ${size}`);
  createFileSync(dest, bytes);
  stats.copied++;
  stats.bytesCopied += size;
}

/** An input that could not be linked, copied (reflink where the file system can). */
async function copyInput(origin: InputOrigin, dest: string, size: number, stats: PlaceStats): Promise<void> {
  await copyFile(origin.path, dest, constants.COPYFILE_FICLONE);
  stats.copied++;
  stats.bytesCopied += size;
  const placed = await stat(dest);
  if (placed.size !== size) throw new Error(`${origin.rel} changed while the build ran (was ${size} bytes, now ${placed.size})`);
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
  const made = new Set<string>();
  // Files this build makes are written, and inputs linked, first, one after another; the rest
  // (copies, the previous tree's files) after.
  for (const f of files) if (f.origin.kind === 'made') writeMade(f.origin.bytes(), insideRoot(root, f.path), f.size, stats);
  const rest = files.filter(
    (f) =>
      f.origin.kind === 'previous' || (f.origin.kind === 'input' && !linkInput(f.origin, insideRoot(root, f.path), stats, made, held.get(f.path), touched)),
  );
  const dirs = new Map<string, Promise<unknown>>();
  // Many copies and downloads in flight: file-system and network latency, not CPU, bound them.
  const results = await mapLimit(rest, 64, async (f) => {
    const dest = insideRoot(root, f.path);
    const dir = path.dirname(dest);
    const there = f.origin.kind === 'input' ? undefined : held.get(f.path); // (an input's was removed above)
    if (!there && !made.has(dir)) {
      let making = dirs.get(dir);
      if (!making) dirs.set(dir, (making = mkdir(dir, { recursive: true })));
      await making;
    }
    if (f.origin.kind === 'input') return copyInput(f.origin, dest, f.size, stats);
    if (f.origin.kind === 'made') return; // (written above)
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
