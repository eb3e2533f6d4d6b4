// Walks the images folder and lists every regular file in it, in a stable order.
// Follows symlinks to files and folders, but never loops, and never descends into the output.

import type { Dirent } from 'node:fs';
import { readdirSync, realpathSync, statSync } from 'node:fs';
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

/** Depth-first order of relative paths (a folder's entries by name, a folder's contents right after it). */
export function compareRel(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}

/**
 * Lists the files under `root`, in depth-first name order. The calls are synchronous: on a local
 * disk a stat takes a few microseconds, and going through libuv's thread pool costs ~10× that
 * (measured: 12,000 stats 62 ms sync, 1.2 s through the pool with 64 in flight). `exclude` tells folders never to enter (the output folder and its temporary
 * siblings when they are nested in the input). A symlink back to a folder above it is a loop; a
 * folder reached twice through symlinks is read once, under its first path in that order.
 */
export async function findFiles(root: string, exclude: (absPath: string) => boolean = () => false): Promise<FindResult> {
  const files: FoundFile[] = [];
  const problems: ImageError[] = [];
  const visits: { rel: string; real: string }[] = [];

  /** Real paths of the folders read: each is read once, however many symlinks lead to it. */
  const entered = new Set<string>();
  let sinceTurn = 0;

  /** `real`: the folder's real path when the caller knows it (a plain folder under a known real path). */
  async function walk(dir: string, rel: string, ancestors: ReadonlySet<string>, knownReal?: string): Promise<void> {
    const real = knownReal ?? realpathSync(dir);
    if (ancestors.has(real)) {
      problems.push(new ImageError(rel || '.', 'is a symlink loop (it leads back to a folder above it)', 'remove the symlink that points back up the tree'));
      return;
    }
    visits.push({ rel, real });
    // Walked in name order, so the first path to a folder is the one kept below; a folder seen
    // before is not read again (a chain of folders each holding two links to the next would
    // otherwise be walked 2^N times).
    if (entered.has(real)) return;
    entered.add(real);
    // A turn of the event loop now and then: a signal (Ctrl-C, SIGTERM) is heard during a long walk.
    if (++sinceTurn >= 256) {
      sinceTurn = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const entries: Dirent[] = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const inside = new Set(ancestors).add(real);
    for (const entry of entries) {
      const name = entry.name;
      if (IGNORED.has(name)) continue;
      const full = path.join(dir, name);
      const relName = rel ? `${rel}/${name}` : name;
      if (exclude(full)) continue;
      const enter = async (realDir: string | undefined) => {
        if (exclude(realDir ?? realpathSync(full))) return;
        try {
          await walk(full, relName, inside, realDir);
        } catch (e) {
          problems.push(new ImageError(relName, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check its permissions'));
        }
      };
      // A plain folder needs no stat: its real path is its parent's plus its name.
      if (entry.isDirectory()) {
        await enter(path.join(real, name));
        continue;
      }
      let st;
      try {
        st = statSync(full);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'ELOOP' ? 'is a symlink loop' : code === 'ENOENT' ? 'is a dangling symlink' : `cannot be read (${code})`;
        problems.push(new ImageError(relName, why, 'remove it from the images folder or fix its target'));
        continue;
      }
      if (st.isDirectory()) await enter(undefined);
      // A symbolic link to a file is read, and published, as the file it names.
      else if (st.isFile())
        files.push({
          path: entry.isSymbolicLink() ? realpathSync(full) : full,
          rel: relName,
          size: st.size,
          dev: st.dev,
          ino: st.ino,
          mtimeMs: st.mtimeMs,
          ctimeMs: st.ctimeMs,
        });
    }
  }

  await walk(path.resolve(root), '', new Set());

  // A folder reached twice (two symlinks to it) is read under its first path only.
  visits.sort((a, b) => compareRel(a.rel, b.rel));
  const firstRel = new Map<string, string>();
  const dropped: string[] = [];
  for (const v of visits) {
    if (dropped.some((d) => v.rel.startsWith(`${d}/`))) continue;
    const first = firstRel.get(v.real);
    if (first === undefined) firstRel.set(v.real, v.rel);
    else {
      dropped.push(v.rel);
      problems.push(
        new ImageError(
          v.rel,
          `is the same folder as ${first || '.'} (reached twice through symlinks): its images would be published twice`,
          'remove one of the symlinks',
        ),
      );
    }
  }
  const kept = dropped.length ? files.filter((f) => !dropped.some((d) => f.rel.startsWith(`${d}/`))) : files;
  kept.sort((a, b) => compareRel(a.rel, b.rel));
  problems.sort((a, b) => compareRel(a.file, b.file));
  return { files: kept, problems };
}

/** The folder a file sits in, relative to the images folder ('' for the top). */
export function folderOf(file: FoundFile): string {
  const dir = path.posix.dirname(file.rel);
  return dir === '.' ? '' : dir;
}
