// Lists what a published tree serves, one row per image, the way a client would see it.

import { openTreeSource } from '../source/source.js';
import { readTree, type TreeProblem } from '../source/tree.js';
import { imagesOf, type PairableItem } from '../simplestreams/images.js';
import { compareVersionKeys } from '../simplestreams/version-key.js';
import { byEntryKey } from '../util/compare.js';
import { isObject } from '../util/json.js';
import type { ImageKind } from '../simplestreams/ftypes.js';

export interface ListRow {
  product: string;
  version: string;
  type: ImageKind;
  fingerprint: string;
  size: number;
  aliases: string[];
}

/** `spec`: the tree's folder, or the http(s) URL it is served at. */
export async function listTree(spec: string): Promise<{ rows: ListRow[]; problems: TreeProblem[] }> {
  const problems: TreeProblem[] = [];
  const tree = await readTree(openTreeSource(spec), { mode: 'report', problems });
  const rows: ListRow[] = [];
  if (!tree) return { rows, problems };
  for (const {
    products: { products },
  } of tree.productsFiles.values()) {
    for (const [key, product] of Object.entries(products).sort(byEntryKey)) {
      if (!isObject(product)) continue;
      const aliases = typeof product.aliases === 'string' && product.aliases ? product.aliases.split(',') : [];
      const versions = Object.entries(isObject(product.versions) ? (product.versions as Record<string, { items?: Record<string, PairableItem> }>) : {}).sort(
        ([a], [b]) => compareVersionKeys(b, a),
      );
      for (const [version, v] of versions) {
        for (const image of imagesOf((v.items ?? {}) as Record<string, PairableItem>)) {
          const size = image.unified ? Number(image.unified.item.size ?? 0) : Number(image.meta!.item.size ?? 0) + Number(image.rootfs!.item.size ?? 0);
          rows.push({ product: key, version, type: image.type, fingerprint: image.fingerprint, size, aliases });
        }
      }
    }
  }
  return { rows, problems };
}
