// Lists what a published tree serves, one row per image, the way a client would see it.

import { loadTree, type TreeProblem } from './verify.js';
import { openTreeSource } from '../source/source.js';
import { imagesOf, type PairableItem } from '../simplestreams/images.js';
import { compareVersionKeys } from '../simplestreams/version-key.js';
import { byEntryKey } from '../util/compare.js';
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
  const tree = await loadTree(openTreeSource(spec), problems);
  const rows: ListRow[] = [];
  if (!tree) return { rows, problems };
  for (const { products } of tree.productsFiles.values()) {
    for (const [key, product] of Object.entries(products).sort(byEntryKey)) {
      const aliases = typeof product.aliases === 'string' && product.aliases ? product.aliases.split(',') : [];
      const versions = Object.entries((product.versions ?? {}) as Record<string, { items?: Record<string, PairableItem> }>).sort(([a], [b]) =>
        compareVersionKeys(b, a),
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
