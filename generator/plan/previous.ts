// Turns a previously published products file back into planned products, versions, items and
// images (pure), so they can be merged with newly built images. Item fields are kept as
// published; images are recovered from the items the way clients pair them, with creation
// dates and descriptions from the tree's catalog.json when it has one.

import { combinedFingerprint, METADATA_FTYPES, ROOTFS_FTYPES, UNIFIED_FTYPES } from '../ftypes.js';
import type { Catalog } from '../emit/catalog-schema.js';
import type { ProductsFile } from '../previous/read.js';
import { findArchitecture } from '../verify/architectures.js';
import { orderImages, type Client, type PlannedFile, type PlannedImage, type PlannedItem, type PlannedProduct, type PlannedVersion } from './products.js';

type PublishedItem = ProductsFile['products'][string]['versions'][string]['items'][string];

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const clientOf = (ftype: string): Client => (ftype.startsWith('incus') ? 'incus' : 'lxd');

/** Seconds since the epoch for a version key (YYYYMMDD[_HHMM]); its images' dates when unknown. */
export function versionKeyTime(key: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:_(\d{2})(\d{2}))?/.exec(key);
  if (!m) return 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0)) / 1000;
}

function plannedItem(key: string, item: PublishedItem, files: Map<string, PlannedFile>): PlannedItem {
  let file = files.get(item.path);
  if (!file) files.set(item.path, (file = { origin: { kind: 'previous' }, path: item.path, sha256: item.sha256, size: item.size }));
  const combined: Record<string, string> = {};
  for (const [k, v] of Object.entries(item)) if (k.startsWith('combined_') && k !== 'combined_type' && typeof v === 'string') combined[k] = v;
  return {
    key,
    ftype: item.ftype,
    file,
    combined,
    ...(item.combined_type ? { combinedType: item.combined_type } : {}),
    ...(typeof item.delta_base === 'string' ? { deltaBase: item.delta_base } : {}),
  };
}

function recoverImages(items: PlannedItem[], details: (fp: string) => Pick<PlannedImage, 'created' | 'serial' | 'description'>, label: string): PlannedImage[] {
  const images = new Map<string, PlannedImage>();
  const metas = items.filter((i) => METADATA_FTYPES.includes(i.ftype));
  for (const root of items.filter((i) => ROOTFS_FTYPES[i.ftype])) {
    for (const meta of metas) {
      const fp = combinedFingerprint(meta.combined, root.ftype);
      if (!fp) continue;
      const seen = images.get(fp);
      if (seen) {
        if (!seen.clients.includes(clientOf(meta.ftype))) seen.clients.push(clientOf(meta.ftype));
        continue;
      }
      images.set(fp, {
        fingerprint: fp,
        type: ROOTFS_FTYPES[root.ftype]!.type,
        clients: [clientOf(meta.ftype)],
        size: meta.file.size + root.file.size,
        files: [{ ftype: meta.ftype, file: meta.file }, { ftype: root.ftype, file: root.file }],
        ...details(fp),
        label,
      });
    }
  }
  for (const item of items.filter((i) => UNIFIED_FTYPES.includes(i.ftype))) {
    const fp = item.file.sha256;
    const seen = images.get(fp);
    if (seen) {
      if (!seen.clients.includes(clientOf(item.ftype))) seen.clients.push(clientOf(item.ftype));
      continue;
    }
    images.set(fp, { fingerprint: fp, type: item.combinedType ?? 'container', clients: [clientOf(item.ftype)], size: item.file.size, files: [{ ftype: item.ftype, file: item.file }], ...details(fp), label });
  }
  for (const image of images.values()) image.clients.sort();
  return orderImages([...images.values()]);
}

/** The products of a published tree as planned products (oldest version first), every file marked `previous`. */
export function previousProducts(products: ProductsFile, catalog: Catalog | null, label: string): PlannedProduct[] {
  const fromCatalog = new Map<string, { created: string; serial?: string; description?: string }>();
  for (const p of catalog?.products ?? []) for (const v of p.versions) for (const i of v.images) fromCatalog.set(i.fingerprint, i);
  const files = new Map<string, PlannedFile>();
  return Object.entries(products.products)
    .sort(([a], [b]) => cmp(a, b))
    .map(([key, p]) => {
      const versions: PlannedVersion[] = Object.entries(p.versions)
        .sort(([a], [b]) => cmp(a, b))
        .map(([vkey, v]) => {
          const items = Object.entries(v.items).sort(([a], [b]) => cmp(a, b)).map(([ikey, item]) => plannedItem(ikey, item, files));
          const details = (fp: string) => {
            const known = fromCatalog.get(fp);
            return {
              created: known ? Date.parse(known.created) / 1000 : versionKeyTime(vkey),
              ...(known?.serial ? { serial: known.serial } : {}),
              ...(known?.description ? { description: known.description } : {}),
            };
          };
          return { key: vkey, items, images: recoverImages(items, details, `${label}: ${key} ${vkey}`) };
        });
      const product: PlannedProduct = {
        key,
        os: p.os,
        release: p.release,
        arch: p.arch,
        canonicalArch: findArchitecture(p.arch)?.canonical ?? p.arch,
        variant: p.variant,
        aliases: p.aliases ? p.aliases.split(',') : [],
        releaseTitle: p.release_title,
        requirements: p.requirements ?? p.lxd_requirements ?? {},
        versions,
      };
      if (p.release_codename) product.releaseCodename = p.release_codename;
      if (p.supported !== undefined) product.supported = p.supported;
      if (p.support_eol) product.supportEol = p.support_eol;
      return product;
    });
}
