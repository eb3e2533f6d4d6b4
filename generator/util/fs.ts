// File-system helpers shared by the writer and the tree reader.

import { constants, linkSync as fsLinkSync, mkdirSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { copyFile, link, lstat, mkdir } from 'node:fs/promises';
import { UsageError } from './errors.js';

/**
 * Hard-links `from` to `dest`, or copies it (reflink where possible) when a link cannot be made.
 * `from` is a regular file, never a symbolic link (link(2) would link the link itself): callers
 * resolve links where they meet them.
 */
export async function linkOrCopy(from: string, dest: string): Promise<'linked' | 'copied'> {
  try {
    await link(from, dest);
    return 'linked';
  } catch (e) {
    if (!LINK_REFUSED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  }
  await copyFile(from, dest, constants.COPYFILE_FICLONE);
  return 'copied';
}

/**
 * Hard-links `from` to `dest` synchronously (see linkOrCopy): false when the file systems or the
 * file system do not allow it, and a copy is needed.
 */
/**
 * Creates `full` holding `data`, synchronously, never writing through what is there: O_EXCL
 * fails on anything at the path, even a link, which is then removed; a missing folder is made.
 * Each is done only when the first try says so (most folders exist, most paths are free).
 */
export function createFileSync(full: string, data: string | Uint8Array): void {
  const write = () => writeFileSync(full, data, { flag: 'wx' });
  try {
    write();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') mkdirSync(path.dirname(full), { recursive: true });
    else if (code === 'EEXIST') rmSync(full, { force: true });
    else throw e;
    write();
  }
}

export function linkSync(from: string, dest: string): boolean {
  try {
    fsLinkSync(from, dest);
    return true;
  } catch (e) {
    if (!LINK_REFUSED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
    return false;
  }
}

/** What link(2) answers when a copy must be made instead. */
const LINK_REFUSED = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP']);

/** What makes a file the very file it is: its device and inode. */
export type Identity = Pick<Stats, 'dev' | 'ino'>;

/** True when `a` is the very file `held` is (a hard link of the same inode). */
export const sameFile = (a: Identity, held: Identity | undefined): boolean => held !== undefined && a.ino === held.ino && a.dev === held.dev;

/**
 * Makes sure the scratch folder `dir` (next to the output: derived files, downloads) is a folder
 * of its own, created when missing. A symbolic link there is refused: whatever it points at would
 * be written into and cleaned up as if it were ours.
 */
export async function ownFolder(dir: string): Promise<void> {
  const st = await lstat(dir).catch(() => null);
  if (st?.isSymbolicLink())
    throw new UsageError(
      `${dir} is a symbolic link: staticstreams keeps its scratch files there and would write into (and delete from) what it points at\n  fix: remove the link (rm ${dir}); the build makes the folder itself`,
    );
  if (st && !st.isDirectory()) throw new UsageError(`${dir} is not a folder (staticstreams keeps its scratch files there)\n  fix: move it away`);
  if (!st) await mkdir(dir, { recursive: true });
}
