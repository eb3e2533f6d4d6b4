// The package lists a previous tree published, where this run needs one: the version just before
// each version that gets manifest items (its changes are made from that list). Read from the
// version's manifest.json item, held to the item's size and sha256, checked field by field; a list
// that cannot be read costs only the changes item, with a warning.

import { createHash } from 'node:crypto';
import { MANIFEST_FTYPES, parseManifestJson, type PackageList } from '../formats/manifest.js';
import { isManifestItem } from '../plan/manifests.js';
import type { PlannedProduct } from '../plan/products.js';
import type { TreeSource } from '../source/source.js';
import type { Reporter } from '../util/reporter.js';

/** Bytes of one published package list read at most. */
const LIST_LIMIT = 64 * 1024 * 1024;

/** "product version" → the list its manifest.json item holds, for the versions this run's changes start from. */
export async function readPublishedLists(
  products: PlannedProduct[],
  lists: ReadonlyMap<string, PackageList>,
  source: TreeSource,
  reporter: Reporter,
): Promise<Map<string, PackageList>> {
  const wanted: { name: string; item: { path: string; sha256: string; size: number } }[] = [];
  for (const p of products) {
    let before: { name: string; item?: { path: string; sha256: string; size: number } } | undefined;
    for (const v of p.versions) {
      const own = v.images.some((i) => lists.has(i.fingerprint));
      if (own && !v.items.some(isManifestItem) && before?.item) wanted.push({ name: before.name, item: before.item });
      const item = v.items.find((i) => i.ftype === MANIFEST_FTYPES.json)?.file;
      before = { name: `${p.key} ${v.key}`, ...(item && !own ? { item } : {}) };
    }
  }
  const found = new Map<string, PackageList>();
  for (const { name, item } of wanted) {
    if (found.has(name)) continue;
    let text: string | null;
    try {
      text = item.size <= LIST_LIMIT ? await source.readText(item.path, LIST_LIMIT) : null;
    } catch {
      text = null;
    }
    const bytes = text === null ? undefined : Buffer.from(text, 'utf8');
    const problem =
      bytes === undefined
        ? 'cannot be read'
        : bytes.length !== item.size || createHash('sha256').update(bytes).digest('hex') !== item.sha256
          ? 'does not match its sha256 and size in the products file'
          : undefined;
    const parsed = problem ? problem : parseManifestJson(text!);
    if (typeof parsed === 'string') {
      reporter.warn(`${source.label}: ${item.path} (the package list of ${name}) ${parsed}: the next version's changes are not published`);
      continue;
    }
    found.set(name, { database: parsed.database, packages: parsed.packages });
  }
  return found;
}
