// Turns the catalog's per-architecture products into what people browse: one entry per
// OS/release/variant, with its architectures side by side. Pure; used by the pages and tests.

import type { Catalog, CatalogProduct } from './catalog.js';
import { compareVersionKeys } from '../simplestreams/version-key.js';
import { compareStrings } from '../util/compare.js';

export type CatalogImage = CatalogProduct['versions'][number]['images'][number];

export interface ProductGroup {
  /** Path of its page under products/, unique, lower case, URL-safe. */
  slug: string;
  os: string;
  release: string;
  variant: string;
  releaseTitle: string;
  releaseCodename?: string;
  /** One catalog product per architecture, in architecture order. */
  members: CatalogProduct[];
  arches: string[];
  types: CatalogImage['type'][];
  /** Aliases without the architecture suffix (the client adds it). */
  aliases: string[];
  /** The alias people type: the shortest (`os/release` for the default variant), when there is one. */
  alias?: string;
  supported?: boolean;
  supportEol?: string;
  /** The newest version of any architecture. */
  newest: { version: string; created: string };
  /**
   * The size of each type's newest image (of the first architecture that has one, amd64 first):
   * what a person downloads, one number per type.
   */
  sizes: { type: CatalogImage['type']; size: number }[];
  /** Each architecture's own newest version (they differ when one was built later than another). */
  newestByArch: { arch: string; version: string; created: string }[];
  /** The first description found on the newest version. */
  description?: string;
}

const ARCH_ORDER = ['amd64', 'arm64', 'armhf', 'armel', 'i386', 'ppc64el', 'riscv64', 's390x', 'loongarch64'];
const archRank = (a: string) => ARCH_ORDER.indexOf(a) + 1 || ARCH_ORDER.length + 1;

export function slugPart(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return s || '_';
}

export function groupProducts(catalog: Pick<Catalog, 'products'>): ProductGroup[] {
  const byKey = new Map<string, CatalogProduct[]>();
  for (const p of catalog.products) {
    const k = JSON.stringify([p.os, p.release, p.variant]);
    const list = byKey.get(k);
    if (list) list.push(p);
    else byKey.set(k, [p]);
  }
  const used = new Set<string>();
  const groups: ProductGroup[] = [];
  for (const members of byKey.values()) {
    members.sort((a, b) => archRank(a.arch) - archRank(b.arch) || a.arch.localeCompare(b.arch));
    const first = members[0]!;
    let slug = [first.os, first.release, first.variant].map(slugPart).join('/');
    for (let n = 2; used.has(slug); n++) slug = `${[first.os, first.release, first.variant].map(slugPart).join('/')}-${n}`;
    used.add(slug);
    const newestByArch = members.map((m) => {
      const v = m.versions[0]!;
      return {
        arch: m.arch,
        version: v.version,
        created: v.images
          .map((i) => i.created)
          .sort()
          .at(-1)!,
      };
    });
    const newestVersion = newestByArch
      .map((n) => n.version)
      .sort(compareVersionKeys)
      .at(-1)!;
    const newestImages = members.flatMap((m) => m.versions.filter((v) => v.version === newestVersion).flatMap((v) => v.images));
    const created = newestImages
      .map((i) => i.created)
      .sort()
      .at(-1)!;
    const types = [...new Set(members.flatMap((m) => m.versions.flatMap((v) => v.images.map((i) => i.type))))].sort() as CatalogImage['type'][];
    const aliases = [...new Set(members.flatMap((m) => m.aliases))];
    groups.push({
      slug,
      os: first.os,
      release: first.release,
      variant: first.variant,
      releaseTitle: first.releaseTitle,
      ...(first.releaseCodename ? { releaseCodename: first.releaseCodename } : {}),
      members,
      arches: members.map((m) => m.arch),
      types,
      aliases,
      ...(aliases.length ? { alias: shortestAlias(aliases) } : {}),
      ...(members.some((m) => m.supported !== undefined) ? { supported: members.some((m) => m.supported === true) } : {}),
      ...(first.supportEol ? { supportEol: first.supportEol } : {}),
      newest: { version: newestVersion, created },
      sizes: types.map((type) => ({ type, size: newestSize(members, type) })),
      newestByArch,
      ...(newestImages.find((i) => i.description) ? { description: newestImages.find((i) => i.description)!.description } : {}),
    });
  }
  return groups.sort((a, b) => a.os.localeCompare(b.os) || compareReleases(b.release, a.release) || a.variant.localeCompare(b.variant));
}

/** The alias with the fewest parts, then the shortest, then the first by name. */
function shortestAlias(aliases: string[]): string {
  const parts = (a: string) => a.split('/').length;
  return [...aliases].sort((a, b) => parts(a) - parts(b) || a.length - b.length || compareStrings(a, b))[0]!;
}

/** The size of the newest image of `type`: the newest version holding one, of the first architecture (in order) at that version. */
function newestSize(members: CatalogProduct[], type: CatalogImage['type']): number {
  let best: { version: string; size: number } | undefined;
  for (const m of members)
    for (const v of m.versions) {
      const image = v.images.find((i) => i.type === type);
      if (image && (!best || compareVersionKeys(v.version, best.version) > 0)) best = { version: v.version, size: image.size };
      if (image) break; // versions are newest first
    }
  return best!.size;
}

/** Newer releases first when they look like numbers (24.04 > 22.04 > 9), else by name. */
export function compareReleases(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** True when the newest build is older than the threshold at `now`. */
export function isStale(created: string, staleAfterDays: number, now: Date): boolean {
  return now.getTime() - Date.parse(created) > staleAfterDays * 86_400_000;
}
