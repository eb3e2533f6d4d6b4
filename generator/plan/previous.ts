// Turns a previously published products file back into planned products, versions, items and
// images (pure), so they can be merged with newly built images. Item fields, paths, version
// keys and aliases are kept as published — the tree may be another tool's — and an image only
// one client can see gets the other client's item for the same file, so that LXD and Incus
// both see it. Images are recovered from the items the way clients pair them, with creation
// dates and descriptions from the tree's catalog.json when it has one.

import { compareVersionKeys, versionKeyTime } from '../simplestreams/version-key.js';
import { CLIENT_TWIN } from '../simplestreams/ftypes.js';
import { imagesOf, type PairableItem } from '../simplestreams/images.js';
import type { Catalog } from '../formats/catalog.js';
import type { AcceptedProductsFile as ProductsFile } from '../simplestreams/schema.js';
import { findArchitecture } from '../simplestreams/architectures.js';
import { orderImages, type PlannedFile, type PlannedImage, type PlannedItem, type PlannedProduct, type PlannedVersion } from './products.js';
import { compareStrings } from '../util/compare.js';

type PublishedItem = ProductsFile['products'][string]['versions'][string]['items'][string];

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

/**
 * The items a version needs so both clients see each image: the other client's metadata or
 * unified item for the same file (never an LXD unified item for a VM: LXD reads every unified
 * image as a container). Returns the added items.
 */
function twinItems(items: PlannedItem[]): PlannedItem[] {
  const keys = new Set(items.map((i) => i.key));
  const added: PlannedItem[] = [];
  for (const item of items) {
    const twin = CLIENT_TWIN[item.ftype];
    if (!twin) continue;
    if (twin === 'lxd_combined.tar.gz' && item.combinedType === 'virtual-machine') continue;
    if ([...items, ...added].some((o) => o.ftype === twin && o.file.path === item.file.path)) continue;
    const [from, to] = [item.ftype.split(/[._]/)[0]!, twin.split(/[._]/)[0]!];
    const base = item.key.includes(from) ? item.key.replace(from, to) : `${to}-${item.key}`;
    let key = base;
    for (let n = 2; keys.has(key); n++) key = `${base}-${n}`;
    keys.add(key);
    added.push({ ...item, key, ftype: twin });
  }
  return added;
}

function recoverImages(items: PlannedItem[], details: (fp: string) => Pick<PlannedImage, 'created' | 'serial' | 'description'>, label: string): PlannedImage[] {
  const byKey = new Map(items.map((i) => [i.key, i]));
  const pairable: [string, PairableItem][] = items.map((i) => [
    i.key,
    { ftype: i.ftype, sha256: i.file.sha256, ...i.combined, ...(i.combinedType ? { combined_type: i.combinedType } : {}) },
  ]);
  return orderImages(
    imagesOf(pairable).map((paired): PlannedImage => {
      const parts = paired.unified ? [byKey.get(paired.unified.key)!] : [byKey.get(paired.meta!.key)!, byKey.get(paired.rootfs!.key)!];
      return {
        fingerprint: paired.fingerprint,
        type: paired.type,
        clients: paired.clients,
        size: parts.reduce((n, p) => n + p.file.size, 0),
        files: parts.map((p) => ({ ftype: p.ftype, file: p.file })),
        ...details(paired.fingerprint),
        label,
      };
    }),
  );
}

/**
 * The products of a published tree as planned products (oldest version first), every file
 * marked `previous`. `onTwin` hears of each item added so that both clients see an image.
 */
export function previousProducts(
  products: ProductsFile,
  catalog: Catalog | null,
  label: string,
  onTwin?: (where: string, item: PlannedItem) => void,
): PlannedProduct[] {
  const fromCatalog = new Map<string, { created: string; serial?: string; description?: string }>();
  for (const p of catalog?.products ?? []) for (const v of p.versions) for (const i of v.images) fromCatalog.set(i.fingerprint, i);
  const files = new Map<string, PlannedFile>();
  return Object.entries(products.products)
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([key, p]) => {
      const versions: PlannedVersion[] = Object.entries(p.versions)
        .sort(([a], [b]) => compareVersionKeys(a, b))
        .map(([vkey, v]) => {
          const published = Object.entries(v.items).map(([ikey, item]) => plannedItem(ikey, item, files));
          const twins = twinItems(published);
          for (const twin of twins) onTwin?.(`${key} ${vkey}`, twin);
          const items = [...published, ...twins].sort((a, b) => compareStrings(a.key, b.key));
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
        variant: p.variant || 'default',
        aliases: p.aliases ? p.aliases.split(',') : [],
        releaseTitle: p.release_title ?? p.release,
        requirements: p.requirements ?? p.lxd_requirements ?? {},
        versions,
      };
      if (p.release_codename) product.releaseCodename = p.release_codename;
      if (p.supported !== undefined) product.supported = p.supported;
      if (p.support_eol && /^\d{4}-\d{2}-\d{2}$/.test(p.support_eol)) product.supportEol = p.support_eol;
      return product;
    });
}
