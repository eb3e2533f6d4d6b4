// Places image files into the output tree: a hard link when input and output share a
// filesystem (no bytes copied), a copy (reflink where the filesystem can) when they do not.

import { constants } from 'node:fs';
import { copyFile, link, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PlannedFile } from '../plan/products.js';
import { mapLimit } from '../concurrency.js';

export interface PlaceStats {
  linked: number;
  copied: number;
  bytesCopied: number;
}

/** Resolves an output-relative path inside `root`, refusing anything that would escape it. */
export function insideRoot(root: string, rel: string): string {
  const full = path.resolve(root, rel);
  if (!full.startsWith(path.resolve(root) + path.sep)) throw new Error(`refusing to write outside the output folder: ${rel}`);
  return full;
}

/** Links (or copies) every planned file into `root`, several at a time. */
export async function placeFiles(root: string, files: PlannedFile[]): Promise<PlaceStats> {
  const stats: PlaceStats = { linked: 0, copied: 0, bytesCopied: 0 };
  const dirs = new Map<string, Promise<unknown>>();
  const results = await mapLimit(files, 16, async (f) => {
    const dest = insideRoot(root, f.path);
    const dir = path.dirname(dest);
    let made = dirs.get(dir);
    if (!made) dirs.set(dir, (made = mkdir(dir, { recursive: true })));
    await made;
    try {
      await link(f.source.path, dest);
      stats.linked++;
      return; // the same inode: nothing to compare
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw e;
    }
    await copyFile(f.source.path, dest, constants.COPYFILE_FICLONE);
    stats.copied++;
    stats.bytesCopied += f.size;
    const placed = await stat(dest);
    if (placed.size !== f.size) {
      throw new Error(`${f.source.rel} changed while the build ran (was ${f.size} bytes, now ${placed.size})`);
    }
  });
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return stats;
}
