// File-system helpers shared by the writer and the tree reader.

import { constants } from 'node:fs';
import { copyFile, link } from 'node:fs/promises';

/** Hard-links `from` to `dest`, or copies it (reflink where possible) when a link cannot be made. */
export async function linkOrCopy(from: string, dest: string): Promise<'linked' | 'copied'> {
  try {
    await link(from, dest);
    return 'linked';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw e;
  }
  await copyFile(from, dest, constants.COPYFILE_FICLONE);
  return 'copied';
}
