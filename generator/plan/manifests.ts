// Which manifest items to add (pure): for each version whose container image's package list is
// known and that has no manifest items yet, its package list (Ubuntu's `manifest` format and as
// JSON), an SPDX SBOM of its image, and — when the version before it in the product has a known
// list — the changes from it. Each item's bytes are made here, named by their hash, next to the
// version's root filesystem.

import { createHash } from 'node:crypto';
import { changesJson, manifestJson, manifestText, MANIFEST_FTYPES, packageChanges, spdxJson, type PackageList } from '../formats/manifest.js';
import type { PlannedProduct, PlannedVersion } from './products.js';

/** One file to make: its item's key and ftype, where it goes, and its bytes. */
export interface ManifestFile {
  ftype: string;
  path: string;
  bytes: Buffer;
  sha256: string;
}

export interface ManifestJob {
  product: string;
  version: string;
  /** The version's files, made when asked (a few tens of KiB each: made one version at a time, never all at once). */
  files(): ManifestFile[];
}

/** The file name ending of each manifest ftype. */
const ENDING: Record<string, string> = {
  [MANIFEST_FTYPES.manifest]: 'manifest',
  [MANIFEST_FTYPES.json]: 'packages.json',
  [MANIFEST_FTYPES.sbom]: 'spdx.json',
  [MANIFEST_FTYPES.changes]: 'changes.json',
};

const MANIFEST_FTYPE_SET: ReadonlySet<string> = new Set(Object.values(MANIFEST_FTYPES));

/** Whether an item is one of the manifest items. */
export const isManifestItem = (i: { ftype: string }): boolean => MANIFEST_FTYPE_SET.has(i.ftype);

/** The version's container image whose list is known, with that list. */
function listOf(v: PlannedVersion, lists: ReadonlyMap<string, PackageList>): { image: string; list: PackageList; created: number } | undefined {
  for (const i of v.images) {
    const list = i.type === 'container' ? lists.get(i.fingerprint) : undefined;
    if (list) return { image: i.fingerprint, list, created: i.created };
  }
  return undefined;
}

/** The folder of the version's image files. */
function dirOf(v: PlannedVersion): string | undefined {
  const file = v.images.find((i) => i.type === 'container')?.files.at(-1)?.file;
  return file ? file.path.slice(0, file.path.lastIndexOf('/')) : undefined;
}

function file(dir: string, ftype: string, text: string): ManifestFile {
  const bytes = Buffer.from(text, 'utf8');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { ftype, path: `${dir}/${ftype === MANIFEST_FTYPES.changes ? 'changes' : 'packages'}-${sha256.slice(0, 16)}.${ENDING[ftype]}`, bytes, sha256 };
}

/**
 * The manifest files to make. `lists`: image fingerprint → package list (read this run);
 * `published`: "product version" → the list a previous tree's manifest item holds.
 */
export function planManifests(
  products: PlannedProduct[],
  lists: ReadonlyMap<string, PackageList>,
  published: ReadonlyMap<string, PackageList> = new Map(),
): ManifestJob[] {
  const jobs: ManifestJob[] = [];
  for (const p of products) {
    let before: { version: string; image: string; list: PackageList } | undefined;
    for (const v of p.versions) {
      const own = listOf(v, lists);
      const known = own ?? publishedOf(v, published.get(`${p.key} ${v.key}`));
      const dir = dirOf(v);
      if (own && dir && !v.items.some(isManifestItem)) {
        const iso = new Date(own.created * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        const from = before && before.list.database === own.list.database ? before : undefined;
        const [version, product] = [v.key, p];
        jobs.push({
          product: p.key,
          version: v.key,
          files: () => [
            file(dir, MANIFEST_FTYPES.manifest, manifestText(own.list)),
            file(dir, MANIFEST_FTYPES.json, manifestJson(own.list, { fingerprint: own.image, architecture: product.arch })),
            file(dir, MANIFEST_FTYPES.sbom, spdxJson(own.list, { fingerprint: own.image, product: product.key, version, os: product.os, created: iso })),
            ...(from ? [file(dir, MANIFEST_FTYPES.changes, changesJson(packageChanges(from, { version, image: own.image, list: own.list })))] : []),
          ],
        });
      }
      if (known) before = { version: v.key, ...known };
    }
  }
  return jobs;
}

/** A previous version's list, with the image its manifest names. */
function publishedOf(v: PlannedVersion, list: PackageList | undefined): { image: string; list: PackageList } | undefined {
  const image = v.images.find((i) => i.type === 'container')?.fingerprint;
  return list && image ? { image, list } : undefined;
}
