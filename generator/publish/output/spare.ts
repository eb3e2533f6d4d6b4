// The tree a build replaced, kept next to the output as `.NAME.spare` and taken as the next
// build's staging folder: an image file it already holds as the very file the build would link
// (the same inode) stays; every other file goes. So a build that adds one image links one file
// and deletes none, instead of linking the whole tree anew and deleting the old one file by file.
// The output itself is still only ever replaced by the swap.

import { lstatSync, readdirSync, rmdirSync, rmSync, type Stats } from 'node:fs';
import path from 'node:path';

/** What a reused spare holds once cleared: each kept image file's stat by output-relative path. */
export type SpareFiles = Map<string, Stats>;

/**
 * Clears a spare folder for reuse: removes everything but the regular files at the paths in
 * `keep` (the image files this build places), and every folder that holds none of them.
 * Synchronous calls: on a local disk far cheaper per file than a round trip through libuv's
 * pool each.
 */
export function clearSpare(root: string, keep: ReadonlySet<string>): SpareFiles {
  const kept: SpareFiles = new Map();
  /** Clears `dir`; true when it still holds a kept file (else it is removed, unless the root). */
  const walk = (dir: string, rel: string): boolean => {
    let holds = false;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory() && !keep.has(r)) holds = walk(full, r) || holds;
      else if (entry.isFile() && keep.has(r)) {
        kept.set(r, lstatSync(full));
        holds = true;
      } else rmSync(full, { recursive: true, force: true });
    }
    if (!holds && dir !== root) rmdirSync(dir);
    return holds;
  };
  walk(root, '');
  return kept;
}
