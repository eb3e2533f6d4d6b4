// What the stages that derive files from published ones (squashfs deltas, LXC's tarballs) share:
// a planned file as a local path (an input as it is, a previous tree's file placed in the
// stage's scratch folder first), and the products with what a stage made added to its versions.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PlannedFile, PlannedProduct, PlannedVersion } from '../plan/products.js';
import type { TreeSource } from '../source/source.js';

/** `local(file, name)`: the file's path on this machine; a previous tree's file is placed at SCRATCH/NAME. */
export function localFiles(previous: TreeSource | undefined, scratch: string) {
  return async (f: PlannedFile, name: string): Promise<string> => {
    if (f.origin.kind === 'input') return f.origin.path;
    if (f.origin.kind === 'made') {
      const made = path.join(scratch, name);
      await writeFile(made, f.origin.bytes());
      return made;
    }
    if (!previous) throw new Error(`${f.path}: a file of the previous tree, but no previous tree was given`);
    const dest = path.join(scratch, name);
    await previous.place(f.path, dest, f);
    return dest;
  };
}

/** The products with `change` applied to each version it has an entry for ("product version" → change). */
export function changeVersions<T>(
  products: PlannedProduct[],
  changes: ReadonlyMap<string, T>,
  change: (v: PlannedVersion, c: T) => PlannedVersion,
): PlannedProduct[] {
  return products.map((p) => ({
    ...p,
    versions: p.versions.map((v) => {
      const c = changes.get(`${p.key} ${v.key}`);
      return c === undefined ? v : change(v, c);
    }),
  }));
}
