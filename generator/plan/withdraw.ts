// Withdrawing a build (`staticstreams withdraw`): which published versions the user names —
// `PRODUCT/VERSION` (the product key, then its version key, in either key shape) or an image's
// fingerprint (a prefix of 12 or more hex digits, as `lxc image list` shows it) — and the record
// that keeps them out: a later build (`--previous`, a mirror, a rebuild of the same images) does
// not publish a withdrawn image again. Pure.

import { BuildError } from '../util/errors.js';
import type { PlannedProduct } from './products.js';

/** A withdrawn version, as the tree's state records it. */
export interface Withdrawn {
  product: string;
  version: string;
  /** Its images' fingerprints: a build that meets one of them again leaves it out. */
  fingerprints: string[];
  /** When it was withdrawn (ISO 8601). */
  since: string;
}

const sameKey = (a: string, b: string) => a === b || a.replace(/:/g, '') === b.replace(/:/g, '');

/** The versions of `products` each target names; a target naming none (or, for a fingerprint prefix, several) is a problem. */
export function selectWithdrawals(products: PlannedProduct[], targets: readonly string[], since: string): { withdrawn: Withdrawn[]; problems: BuildError[] } {
  const chosen = new Map<string, Withdrawn>();
  const problems: BuildError[] = [];
  const fix =
    'name a published version as PRODUCT/VERSION (staticstreams list shows both, e.g. debian:12:amd64:default/20261206_03:00), or an image fingerprint (12 or more hex digits)';
  for (const target of targets) {
    const slash = target.lastIndexOf('/');
    const found: { product: PlannedProduct; version: PlannedProduct['versions'][number] }[] = [];
    if (/^[0-9a-f]{12,64}$/i.test(target)) {
      for (const p of products)
        for (const v of p.versions) if (v.images.some((i) => i.fingerprint.startsWith(target.toLowerCase()))) found.push({ product: p, version: v });
    } else if (slash > 0) {
      const [key, version] = [target.slice(0, slash), target.slice(slash + 1)];
      for (const p of products) if (p.key === key) for (const v of p.versions) if (sameKey(v.key, version)) found.push({ product: p, version: v });
    }
    if (found.length === 0) problems.push(new BuildError(`withdraw ${target}: the tree publishes no such version or image`, fix));
    else if (found.length > 1)
      problems.push(
        new BuildError(`withdraw ${target}: names ${found.length} versions (${found.map((f) => `${f.product.key}/${f.version.key}`).join(', ')})`, fix),
      );
    else {
      const { product, version } = found[0]!;
      chosen.set(`${product.key} ${version.key}`, {
        product: product.key,
        version: version.key,
        fingerprints: version.images.map((i) => i.fingerprint).sort(),
        since,
      });
    }
  }
  return { withdrawn: [...chosen.values()], problems };
}

/** `products` without the withdrawn versions (and without products left with none). */
export function withoutWithdrawn(products: PlannedProduct[], withdrawn: readonly Withdrawn[]): PlannedProduct[] {
  const out = new Set(withdrawn.map((w) => `${w.product} ${w.version}`));
  const images = new Set(withdrawn.flatMap((w) => w.fingerprints));
  return products
    .map((p) => ({
      ...p,
      versions: p.versions.filter((v) => !out.has(`${p.key} ${v.key}`) && !v.images.some((i) => images.has(i.fingerprint))),
    }))
    .filter((p) => p.versions.length > 0);
}
