// Places image files into the output tree: a hard link when input and output share a
// filesystem (no bytes copied), a copy (reflink where the filesystem can) when they do not.

import { constants } from 'node:fs';
import { copyFile, link, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PlannedFile } from '../plan/products.js';

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

export async function placeFiles(root: string, files: PlannedFile[]): Promise<PlaceStats> {
  const stats: PlaceStats = { linked: 0, copied: 0, bytesCopied: 0 };
  const made = new Set<string>();
  for (const f of files) {
    const dest = insideRoot(root, f.path);
    const dir = path.dirname(dest);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    try {
      await link(f.source.path, dest);
      stats.linked++;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw e;
      await copyFile(f.source.path, dest, constants.COPYFILE_FICLONE);
      stats.copied++;
      stats.bytesCopied += f.size;
    }
    const placed = await stat(dest);
    if (placed.size !== f.size) {
      throw new Error(`${f.source.rel} changed while the build ran (was ${f.size} bytes, now ${placed.size})`);
    }
  }
  return stats;
}
