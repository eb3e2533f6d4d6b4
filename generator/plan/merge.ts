// Merges newly built products into what a previous run published (pure): new versions are
// added, a version published again with the same images is a no-op, and a version key that
// already holds other images is an error unless `replace` is set. A product is the same when
// its key is, or — for a tree another tool made, whose keys may be ordered differently
// (incus-simplestreams: os:release:variant:arch) — when os, release, arch and variant are: new
// versions then join it under its published key, and its published aliases are kept.
// Fingerprints stay unique and aliases unclashed across the merged tree.

import { BuildError } from '../util/errors.js';
import { aliasClashes } from './aliases.js';
import type { PlannedProduct, PlannedVersion } from './products.js';
import { DELTA_FTYPES } from '../simplestreams/ftypes.js';
import { compareVersionKeys } from '../simplestreams/version-key.js';
import { carryLxc, lxcImages } from './lxc.js';
import { compareStrings } from '../util/compare.js';

export interface MergeResult {
  products: PlannedProduct[];
  problems: BuildError[];
  /** `product version` of versions added by this run. */
  added: string[];
  /** Versions built again with the same images: nothing changes. */
  unchanged: string[];
  /** Versions whose published images were replaced (--replace). */
  replaced: string[];
}

/** The version's images, without the one its LXC files add (a rebuild without them has the same images). */
const fingerprints = (v: PlannedVersion) => {
  const lxc = lxcImages(v);
  return v.images
    .map((i) => i.fingerprint)
    .filter((f) => !lxc.has(f))
    .sort();
};
const sameImages = (a: PlannedVersion, b: PlannedVersion) => fingerprints(a).join() === fingerprints(b).join();

/** `replace`: true lets any version be replaced; a set, only the `product version` names in it. */
export function mergeWithPrevious(previous: PlannedProduct[], fresh: PlannedProduct[], opts: { replace: boolean | ReadonlySet<string> }): MergeResult {
  const result: MergeResult = { products: [], problems: [], added: [], unchanged: [], replaced: [] };
  const byKey = new Map(previous.map((p) => [p.key, p]));
  const identity = (p: PlannedProduct) => [p.os, p.release, p.arch, p.variant].join('\0');
  const byIdentity = new Map(previous.map((p) => [identity(p), p]));
  const freshKeys = new Set<string>();
  for (const built of fresh) {
    const old = byKey.get(built.key) ?? byIdentity.get(identity(built));
    const product = !old ? built : { ...built, key: old.key, aliases: old.adopted ? [...new Set([...old.aliases, ...built.aliases])] : built.aliases };
    freshKeys.add(product.key);
    if (!old) {
      result.products.push(product);
      result.added.push(...product.versions.map((v) => `${product.key} ${v.key}`));
      continue;
    }
    const versions = new Map(old.versions.map((v) => [v.key, v]));
    for (const version of product.versions) {
      const name = `${product.key} ${version.key}`;
      const published = versions.get(version.key);
      if (!published) result.added.push(name);
      else if (sameImages(published, version)) {
        result.unchanged.push(name);
        // The same images: the deltas and LXC files published for them still apply.
        const deltas = published.items.filter((i) => DELTA_FTYPES[i.ftype]);
        const kept = carryLxc(published, version);
        versions.set(version.key, deltas.length ? { ...kept, items: [...kept.items, ...deltas].sort((a, b) => compareStrings(a.key, b.key)) } : kept);
        continue;
      } else if (opts.replace === true || (opts.replace !== false && opts.replace.has(name))) result.replaced.push(name);
      else {
        result.problems.push(
          new BuildError(
            `product ${product.key} version ${version.key} is already published with other images (${fingerprints(published)
              .map((f) => f.slice(0, 12))
              .join(', ')}; this build has ${fingerprints(version)
              .map((f) => f.slice(0, 12))
              .join(', ')})`,
            'give the new image a new serial (properties.serial, the version key), or pass --replace to publish it in place of the old one (clients that cached the old one see a checksum change)',
            version.images.map((i) => i.label),
          ),
        );
        continue;
      }
      versions.set(version.key, version); // the new build's files: local, no download needed
    }
    // Product fields (aliases, titles, requirements) follow this run's metadata and config
    // (an adopted product keeps its published aliases besides).
    result.products.push({
      ...product,
      ...(old.adopted ? { adopted: true } : {}),
      versions: [...versions.values()].sort((a, b) => compareVersionKeys(a.key, b.key)),
    });
  }
  for (const product of previous) if (!freshKeys.has(product.key)) result.products.push(product);
  result.products.sort((a, b) => compareStrings(a.key, b.key));

  // One fingerprint, one place in the whole tree ("More than one match" otherwise).
  const owner = new Map<string, string>();
  for (const p of result.products) {
    for (const v of p.versions) {
      for (const i of v.images) {
        const where = `product ${p.key} version ${v.key}`;
        const first = owner.get(i.fingerprint);
        if (first && first !== where) {
          result.problems.push(
            new BuildError(
              `image ${i.fingerprint} would be published twice, as ${first} and as ${where}; clients fail with "More than one match" on a duplicate fingerprint`,
              'leave the image out of this build (it is already published), or publish it under its first version only',
              [i.label],
            ),
          );
        }
        owner.set(i.fingerprint, where);
      }
    }
  }
  result.problems.push(
    ...aliasClashes(
      result.products.map((p) => ({
        product: p.key,
        arch: p.arch,
        aliases: p.aliases,
        files: p.versions.flatMap((v) => v.images.map((i) => i.label)),
      })),
    ),
  );
  return result;
}
