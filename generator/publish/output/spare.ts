// The tree a build replaced, kept next to the output as `.NAME.spare` and taken as the next
// build's staging folder: an image file it already holds as the very file the build would link
// (the same inode) stays; every other file goes. So a build that adds one image links one file
// and deletes none, instead of linking the whole tree anew and deleting the old one file by file.
// The output itself is still only ever replaced by the swap.

import { lstatSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Identity } from '../../util/fs.js';

/** One entry of a spare tree: a folder, a regular file (with its identity) or anything else. */
export interface SpareEntry {
  rel: string;
  kind: 'dir' | 'file' | 'other';
  dev: number;
  ino: number;
}

/** Every entry under `root`, a folder before what it holds (synchronous calls: see below). */
export function listSpare(root: string): SpareEntry[] {
  const entries: SpareEntry[] = [];
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        entries.push({ rel: r, kind: 'dir', dev: 0, ino: 0 });
        walk(full, r);
      } else if (entry.isFile()) {
        const { dev, ino } = lstatSync(full);
        entries.push({ rel: r, kind: 'file', dev, ino });
      } else entries.push({ rel: r, kind: 'other', dev: 0, ino: 0 });
    }
  };
  walk(root, '');
  return entries;
}

/**
 * Lists the spare of an output, if there is one, on a worker thread while the build reads and
 * plans (a tree of thousands of folders takes a few hundred ms to walk); null when none.
 */
export function surveySpare(spare: string): Promise<SpareEntry[] | null> {
  try {
    if (!lstatSync(spare).isDirectory()) return Promise.resolve(null);
  } catch {
    return Promise.resolve(null);
  }
  // Never rejects (nobody may be waiting): without a listing the folder is walked when cleared.
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./spare-worker.js', import.meta.url), { workerData: spare });
    worker.unref(); // a build that publishes nothing does not wait for it
    worker.once('message', resolve);
    worker.once('error', () => resolve(null));
    worker.once('exit', () => resolve(null));
  });
}

/**
 * Clears a spare folder for reuse: removes everything but the regular files at the paths in
 * `keep` (the image files this build places), and every folder that holds none of them.
 * `entries`: its listing (made by surveySpare while nothing else writes to it), else walked now;
 * `touched` gets the "dev:ino" of every file removed.
 * Synchronous calls: on a local disk far cheaper per file than a round trip through libuv's
 * pool each.
 */
export function clearSpare(root: string, keep: ReadonlySet<string>, entries: SpareEntry[] = listSpare(root), touched?: Set<string>): Map<string, Identity> {
  const kept = new Map<string, Identity>();
  const holding = new Set<string>();
  let gone: string | undefined; // a folder removed whole: skip what it held
  const dirs: string[] = [];
  const removed = (e: SpareEntry) => e.kind === 'file' && touched?.add(`${e.dev}:${e.ino}`);
  for (const e of entries) {
    if (gone !== undefined && e.rel.startsWith(`${gone}/`)) {
      removed(e);
      continue;
    }
    if (e.kind === 'file' && keep.has(e.rel)) {
      kept.set(e.rel, e);
      for (let d = path.posix.dirname(e.rel); d !== '.' && !holding.has(d); d = path.posix.dirname(d)) holding.add(d);
    } else if (e.kind === 'dir' && !keep.has(e.rel)) dirs.push(e.rel);
    else {
      rmSync(path.join(root, e.rel), { recursive: true, force: true });
      removed(e);
      if (e.kind === 'dir') gone = e.rel;
    }
  }
  // Deepest first: a folder's files are gone by now; one that changed meanwhile goes whole.
  for (const d of dirs.reverse()) {
    if (holding.has(d)) continue;
    try {
      rmdirSync(path.join(root, d));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') rmSync(path.join(root, d), { recursive: true, force: true });
      else if (code !== 'ENOENT') throw e;
    }
  }
  return kept;
}
