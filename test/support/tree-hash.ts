// A digest of a whole folder (names, symlinks and file bytes) to prove an output is unchanged.

import { createHash } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

export async function hashTree(root: string): Promise<string> {
  const h = createHash('sha256');
  async function walk(dir: string, rel: string): Promise<void> {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        h.update(`d ${r}\n`);
        await walk(full, r);
      } else if (e.isSymbolicLink()) {
        h.update(`l ${r} ${await readlink(full)}\n`);
      } else {
        h.update(`f ${r}\n`);
        h.update(await readFile(full));
      }
    }
  }
  await walk(root, '');
  return h.digest('hex');
}
