// Which squashfs deltas to make (pure): for each version published in this run, a delta from the
// next older version of the same product that has a squashfs, as LXD applies them (ftype
// squashfs.vcdiff, delta_base = that older version key); and which delta items to drop because
// their base version is gone (clients skip those, so they would only cost space).

import { DELTA_FTYPES } from '../simplestreams/ftypes.js';
import type { PlannedFile, PlannedProduct } from './products.js';

export interface DeltaJob {
  product: string;
  version: string;
  base: string;
  /** The older version's squashfs, and the new one's. */
  from: PlannedFile;
  to: PlannedFile;
  /** The folder of the new version in the output (the delta goes next to its squashfs). */
  dir: string;
}

const squashfsOf = (items: PlannedProduct['versions'][number]['items']) => {
  const roots = items.filter((i) => i.ftype === 'squashfs');
  // With several squashfs files in one version, clients attach every delta to each: make none.
  return roots.length === 1 ? roots[0]!.file : undefined;
};

/** `added`: "product version" names published in this run. */
export function planDeltas(products: PlannedProduct[], added: ReadonlySet<string>): DeltaJob[] {
  const jobs: DeltaJob[] = [];
  for (const p of products) {
    let older: { key: string; file: PlannedFile } | undefined;
    for (const v of p.versions) {
      // oldest first
      const file = squashfsOf(v.items);
      if (!file) continue;
      const hasDelta = v.items.some((i) => DELTA_FTYPES[i.ftype] && i.deltaBase === older?.key);
      if (older && added.has(`${p.key} ${v.key}`) && !hasDelta && older.file.sha256 !== file.sha256) {
        jobs.push({ product: p.key, version: v.key, base: older.key, from: older.file, to: file, dir: file.path.slice(0, file.path.lastIndexOf('/')) });
      }
      older = { key: v.key, file };
    }
  }
  return jobs;
}

/** The products without delta items whose delta_base is no longer a version of their product. */
export function dropOrphanDeltas(products: PlannedProduct[]): PlannedProduct[] {
  return products.map((p) => {
    const keys = new Set(p.versions.map((v) => v.key));
    if (!p.versions.some((v) => v.items.some((i) => DELTA_FTYPES[i.ftype] && !keys.has(i.deltaBase ?? '')))) return p;
    return { ...p, versions: p.versions.map((v) => ({ ...v, items: v.items.filter((i) => !DELTA_FTYPES[i.ftype] || keys.has(i.deltaBase ?? '')) })) };
  });
}
