// Retention and the grace period (pure). Retention drops a product's old versions — beyond
// the N newest, or older than D days — but never its newest. Files that stop being listed
// (dropped or replaced versions, a superseded products file) stay downloadable for a grace
// period, because clients cache the products file for an hour and CDNs cache it too; once the
// grace period is over they are left out.

import type { GraceEntry } from '../formats/state.js';
import type { PlannedProduct, PlannedVersion } from './products.js';
import { versionKeyTime } from '../simplestreams/version-key.js';

export interface RetentionPolicy {
  /** Keep at most this many versions per product (the newest ones). */
  keep?: number;
  /** Drop versions built more than this many days before `now`. */
  days?: number;
}

export interface Dropped {
  product: string;
  version: string;
}

/** When a version was built: its newest image, else its key. */
function builtAt(version: PlannedVersion): number {
  return version.images.length ? Math.max(...version.images.map((i) => i.created)) : versionKeyTime(version.key);
}

export function applyRetention(products: PlannedProduct[], policy: RetentionPolicy, nowSeconds: number): { products: PlannedProduct[]; dropped: Dropped[] } {
  const dropped: Dropped[] = [];
  if (policy.keep === undefined && policy.days === undefined) return { products, dropped };
  const kept = products.map((p) => {
    const newestFirst = [...p.versions].reverse();
    const keep = newestFirst.filter((v, i) => {
      if (i === 0) return true; // never the newest
      const tooMany = policy.keep !== undefined && i >= policy.keep;
      const tooOld = policy.days !== undefined && nowSeconds - builtAt(v) > policy.days * 86_400;
      if (tooMany || tooOld) dropped.push({ product: p.key, version: v.key });
      return !(tooMany || tooOld);
    });
    return keep.length === p.versions.length ? p : { ...p, versions: keep.reverse() };
  });
  return { products: kept, dropped };
}

export interface Unlisted {
  path: string;
  sha256: string;
  size: number;
  reason: string;
}

/**
 * The files in their grace period after this run: those a previous run put there and whose time
 * is not up, plus those this run stops listing. Files listed again leave the grace list.
 */
export function carryGrace(
  previous: GraceEntry[],
  unlisted: Unlisted[],
  listed: Set<string>,
  nowMs: number,
  graceMs: number,
): { keep: GraceEntry[]; expired: GraceEntry[] } {
  const keep = new Map<string, GraceEntry>();
  const expired: GraceEntry[] = [];
  for (const entry of previous) {
    if (listed.has(entry.path)) continue;
    if (nowMs - Date.parse(entry.since) >= graceMs) expired.push(entry);
    else keep.set(entry.path, entry);
  }
  const since = new Date(nowMs).toISOString();
  for (const file of unlisted) {
    if (!listed.has(file.path) && !keep.has(file.path) && !expired.some((e) => e.path === file.path)) keep.set(file.path, { ...file, since });
  }
  return { keep: [...keep.values()], expired };
}
