// File-system helpers shared by the writer and the tree reader.

import { constants, type Stats } from 'node:fs';
import { copyFile, link, realpath } from 'node:fs/promises';

/** Hard-links `from` to `dest`, or copies it (reflink where possible) when a link cannot be made. */
export async function linkOrCopy(from: string, dest: string): Promise<'linked' | 'copied'> {
  // link(2) would link a symbolic link itself (the output would hold a link leaving it): the
  // file it names is linked, as copyFile copies the file it names.
  const file = await realpath(from);
  try {
    await link(file, dest);
    return 'linked';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw e;
  }
  await copyFile(file, dest, constants.COPYFILE_FICLONE);
  return 'copied';
}

/** What makes a file the very file it is: its device and inode. */
export type Identity = Pick<Stats, 'dev' | 'ino'>;

/** True when `a` is the very file `held` is (a hard link of the same inode). */
export const sameFile = (a: Identity, held: Identity | undefined): boolean => held !== undefined && a.ino === held.ino && a.dev === held.dev;
