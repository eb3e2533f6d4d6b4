// Walks the images folder and lists every regular file in it, in a stable order.
// Follows symlinks to files and folders, but never loops, and never descends into the output.

import { opendir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ImageError } from '../util/errors.js';

export interface FoundFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the images folder, with `/` separators: what messages show. */
  rel: string;
  size: number;
  dev: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface FindResult {
  files: FoundFile[];
  problems: ImageError[];
}

/** Names skipped without a word: VCS folders and editor/OS droppings. */
const IGNORED = new Set(['.git', '.hg', '.svn', '.DS_Store', 'Thumbs.db']);

/**
 * Lists the files under `root`. `exclude` tells folders never to enter (the output folder
 * and its temporary siblings when they are nested in the input).
 */
export async function findFiles(root: string, exclude: (absPath: string) => boolean = () => false): Promise<FindResult> {
  const files: FoundFile[] = [];
  const problems: ImageError[] = [];
  const seenDirs = new Set<string>();

  async function walk(dir: string, rel: string): Promise<void> {
    const real = await realpath(dir);
    if (seenDirs.has(real)) {
      problems.push(new ImageError(rel || '.', 'is a symlink loop (this folder was already read)', 'remove the symlink that points back up the tree'));
      return;
    }
    seenDirs.add(real);
    const names: string[] = [];
    for await (const entry of await opendir(dir)) names.push(entry.name);
    names.sort();
    for (const name of names) {
      if (IGNORED.has(name)) continue;
      const full = path.join(dir, name);
      const relName = rel ? `${rel}/${name}` : name;
      if (exclude(full)) continue;
      let st;
      try {
        st = await stat(full);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'ELOOP' ? 'is a symlink loop' : code === 'ENOENT' ? 'is a dangling symlink' : `cannot be read (${code})`;
        problems.push(new ImageError(relName, why, 'remove it from the images folder or fix its target'));
        continue;
      }
      if (st.isDirectory()) {
        if (exclude(await realpath(full))) continue;
        try {
          await walk(full, relName);
        } catch (e) {
          problems.push(new ImageError(relName, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check its permissions'));
        }
      } else if (st.isFile()) {
        files.push({ path: full, rel: relName, size: st.size, dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
      }
    }
  }

  await walk(path.resolve(root), '');
  return { files, problems };
}

/** The folder a file sits in, relative to the images folder ('' for the top). */
export function folderOf(file: FoundFile): string {
  const dir = path.posix.dirname(file.rel);
  return dir === '.' ? '' : dir;
}
