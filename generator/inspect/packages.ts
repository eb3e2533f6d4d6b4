// What is inside a published image, and what changed between two versions: read from a tree's
// manifest items (the package list as JSON), held to the sha256 and size the products file gives
// them, for `list --packages` and `diff`.

import { createHash } from 'node:crypto';
import { openTreeSource, type TreeSource } from '../source/source.js';
import { readTree } from '../source/tree.js';
import { compareVersionKeys } from '../simplestreams/version-key.js';
import { isObject } from '../util/json.js';
import { UsageError } from '../util/errors.js';
import { withoutCredentials } from '../util/url.js';
import { MANIFEST_FTYPES, packageChanges, parseManifestJson, type Changes, type PackageList } from '../formats/manifest.js';

/** Bytes of one package list read at most. */
const LIST_LIMIT = 64 * 1024 * 1024;

export interface VersionPackages {
  product: string;
  version: string;
  /** The image the list describes (its fingerprint). */
  image: string;
  architecture: string;
  list: PackageList;
}

type Item = { ftype?: unknown; path?: unknown; sha256?: unknown; size?: unknown };

/** The products of a tree, by key: their aliases and versions' items. */
async function productsOf(source: TreeSource): Promise<Map<string, { aliases: string[]; versions: Map<string, Record<string, Item>> }>> {
  const tree = await readTree(source, { mode: 'report', problems: [] });
  if (!tree) throw new UsageError(`${source.label} is not a simplestreams tree (no streams/v1/index.json)`);
  const products = new Map<string, { aliases: string[]; versions: Map<string, Record<string, Item>> }>();
  for (const { products: file } of tree.productsFiles.values()) {
    for (const [key, p] of Object.entries(file.products)) {
      if (!isObject(p) || !isObject(p.versions)) continue;
      const versions = new Map<string, Record<string, Item>>();
      for (const [v, body] of Object.entries(p.versions as Record<string, unknown>))
        if (isObject(body) && isObject(body.items)) versions.set(v, body.items as Record<string, Item>);
      products.set(key, { aliases: typeof p.aliases === 'string' ? p.aliases.split(',') : [], versions });
    }
  }
  return products;
}

/**
 * The package list of `product` (its key, or an alias) at `version` (default: its newest
 * version with a list) in the tree at `spec` (a folder or URL).
 */
export async function versionPackages(spec: string, product: string, version?: string): Promise<VersionPackages> {
  const source = openTreeSource(spec);
  const label = withoutCredentials(spec);
  const products = await productsOf(source);
  const key = products.has(product) ? product : [...products.entries()].find(([, p]) => p.aliases.includes(product))?.[0];
  if (!key) throw new UsageError(`${label} has no product ${product}\n  fix: run staticstreams list ${label} to see its products and aliases`);
  const { versions } = products.get(key)!;
  const withList = [...versions.entries()].filter(([, items]) => Object.values(items).some((i) => i.ftype === MANIFEST_FTYPES.json));
  let chosen: [string, Record<string, Item>] | undefined;
  if (version !== undefined) {
    if (!versions.has(version))
      throw new UsageError(`${label}: ${key} has no version ${version} (it has ${[...versions.keys()].sort(compareVersionKeys).join(', ')})`);
    chosen = withList.find(([v]) => v === version);
    if (!chosen)
      throw new UsageError(
        `${label}: ${key} ${version} has no package list (an image whose package database was not read, or a tree made before lists were published)`,
      );
  } else {
    chosen = withList.sort(([a], [b]) => compareVersionKeys(a, b)).at(-1);
    if (!chosen) throw new UsageError(`${label}: ${key} has no version with a package list`);
  }
  const item = Object.values(chosen[1]).find((i) => i.ftype === MANIFEST_FTYPES.json)!;
  const where = `${label}: ${String(item.path)} (the package list of ${key} ${chosen[0]})`;
  if (typeof item.path !== 'string' || typeof item.sha256 !== 'string' || typeof item.size !== 'number' || item.size > LIST_LIMIT)
    throw new UsageError(`${where} is not an item that can be read`);
  const text = await source.readText(item.path, LIST_LIMIT);
  if (text === null) throw new UsageError(`${where} is missing`);
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length !== item.size || createHash('sha256').update(bytes).digest('hex') !== item.sha256)
    throw new UsageError(`${where} does not match the sha256 and size its products file gives`);
  const parsed = parseManifestJson(text);
  if (typeof parsed === 'string') throw new UsageError(`${where} ${parsed}`);
  return {
    product: key,
    version: chosen[0],
    image: parsed.image,
    architecture: parsed.architecture,
    list: { database: parsed.database, packages: parsed.packages },
  };
}

/** What changed from version `a` to version `b` (each `{spec, product, version}`), by the package manager's order. */
export async function diffVersions(
  a: { spec: string; product: string; version: string },
  b: { spec: string; product: string; version: string },
): Promise<Changes> {
  const [from, to] = await Promise.all([versionPackages(a.spec, a.product, a.version), versionPackages(b.spec, b.product, b.version)]);
  return packageChanges({ version: from.version, image: from.image, list: from.list }, { version: to.version, image: to.image, list: to.list });
}
