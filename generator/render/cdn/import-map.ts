// The direct URL import endpoints, derived from the catalog: one per unified image and one per
// alias and architecture (the newest unified image), plus the negotiating alias endpoint.

import type { Catalog } from '../../formats/catalog.js';
import { findArchitecture, knownArchitectureNames } from '../../simplestreams/architectures.js';
import { safeFingerprint, safePath, safeUrl } from './header-safety.js';

export interface ImportMap {
  /** The path the tree is served at ('' at the host's root, else e.g. '/lxd'): every endpoint is under it. */
  base: string;
  /** Any accepted architecture name → Debian name. */
  arches: Record<string, string>;
  defaultArch: string | null;
  images: Record<string, { url: string; clients: ('lxd' | 'incus')[] }>;
  /** alias → Debian arch → fingerprint. */
  aliases: Record<string, Record<string, string>>;
  /** A private tree (only then present): every answer's Cache-Control says `private`. */
  private?: true;
}

/** `base`: the path the tree is served at ('' or e.g. '/lxd'), as basePathOf gives it. */
export const importPathForImage = (fingerprint: string, base = '') => safePath(`${base}/import/sha256/${safeFingerprint(fingerprint)}`);
export const importPathForAlias = (alias: string, base = '') => safePath(`${base}/import/alias/${alias}`);
export const importPathForAliasArch = (alias: string, arch: string, base = '') => safePath(`${base}/import/alias/${alias}@${arch}`);

/**
 * The path a tree is served at, from its base URL: '' at the host's root, else the URL's path
 * without its trailing slash ('/lxd' for https://example.org/lxd/). Every rule and endpoint a host
 * gets lies under it.
 */
export function basePathOf(baseUrl: string | undefined): string {
  if (!baseUrl) return '';
  const pathname = new URL(safeUrl(baseUrl)).pathname.replace(/\/+$/, '');
  return pathname ? safePath(pathname) : '';
}

/** Joins a base URL and an output-relative path. */
export function absoluteUrl(baseUrl: string, rel: string): string {
  return safeUrl(`${baseUrl.replace(/\/+$/, '')}/${rel.replace(/^\/+/, '')}`);
}

export function allArchitectureNames(): Record<string, string> {
  const arches: Record<string, string> = {};
  for (const canonical of knownArchitectureNames()) {
    const a = findArchitecture(canonical)!;
    for (const name of [a.canonical, a.debian, ...a.aliases]) arches[name] = a.debian;
  }
  return arches;
}

/** Builds the endpoint map; empty when there is no base URL (headers need absolute URLs). */
export function buildImportMap(catalog: Pick<Catalog, 'products' | 'baseUrl'>, defaultArch: string | null, isPrivate = false): ImportMap {
  const map: ImportMap = {
    base: basePathOf(catalog.baseUrl),
    arches: allArchitectureNames(),
    defaultArch: defaultArch ? (findArchitecture(defaultArch)?.debian ?? null) : null,
    images: {},
    aliases: {},
    ...(isPrivate ? { private: true as const } : {}),
  };
  const base = catalog.baseUrl;
  if (!base) return map;
  for (const product of catalog.products) {
    let newest: string | undefined;
    for (const version of product.versions) {
      const unified = version.images.filter((i) => i.files.length === 1);
      for (const image of unified) {
        map.images[safeFingerprint(image.fingerprint)] = { url: absoluteUrl(base, image.files[0]!.path), clients: image.clients };
      }
      // versions are newest first; a container is preferred over a VM within a version
      const pick = unified.find((i) => i.type === 'container') ?? unified[0];
      if (!newest && pick) newest = pick.fingerprint;
    }
    if (!newest) continue;
    for (const alias of product.aliases) {
      importPathForAlias(alias, map.base);
      (map.aliases[alias] ??= {})[product.arch] = newest;
    }
  }
  return map;
}

/**
 * Architecture negotiation for hosts without code (nginx, Caddy), as regular expressions over
 * "LXD-Server-Architectures,Incus-Server-Architectures". The rule is the edge code's
 * (templates/import-endpoints.js pickArchitecture): the first architecture the client lists that
 * the alias has; a client that lists known architectures the alias lacks gets a 404; one that
 * lists none gets default_arch, or the alias's only architecture. Aliases with the same set of
 * architectures share one negotiation.
 */
export interface Negotiation {
  /** The alias's architectures (Debian names). */
  arches: string[];
  /** Matches the whole header value; group 1 is the first listed name of one of `arches`. */
  pick: string;
  /** Matches a header that lists any known architecture (then: none of `arches`, so 404). */
  listsKnown: string;
  /** The Debian name served when the client lists no known architecture ('' for a 404). */
  fallback: string;
  /** Every architecture name of `arches` → its Debian name. */
  names: Record<string, string>;
  aliases: string[];
}

const alternation = (names: string[]) =>
  names
    .sort()
    .map((n) => n.replace(/[.+]/g, '\\$&'))
    .join('|');

export function negotiations(map: ImportMap): Negotiation[] {
  const bySet = new Map<string, string[]>();
  for (const alias of Object.keys(map.aliases).sort()) {
    const set = Object.keys(map.aliases[alias]!).sort().join(',');
    bySet.set(set, [...(bySet.get(set) ?? []), alias]);
  }
  return [...bySet].map(([set, aliases]) => {
    const arches = set.split(',');
    const names = Object.fromEntries(Object.entries(map.arches).filter(([, debian]) => arches.includes(debian)));
    return {
      arches,
      pick: `^(?:[^,]*,)*?\\s*(${alternation(Object.keys(names))})\\s*(?:,.*)?$`,
      listsKnown: `(?:^|,)\\s*(?:${alternation(Object.keys(map.arches))})\\s*(?:,|$)`,
      fallback: map.defaultArch && arches.includes(map.defaultArch) ? map.defaultArch : arches.length === 1 ? arches[0]! : '',
      names,
      aliases,
    };
  });
}
