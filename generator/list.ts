// Lists what a published tree serves, one row per image, the way a client would see it.

import { loadTree, type TreeProblem } from './verify/tree.js';
import { openPreviousSource } from './previous/source.js';
import { combinedFingerprint, METADATA_FTYPES, ROOTFS_FTYPES, UNIFIED_FTYPES } from './simplestreams/ftypes.js';

export interface ListRow {
  product: string;
  version: string;
  type: 'container' | 'virtual-machine';
  fingerprint: string;
  size: number;
  aliases: string[];
}


type Item = { ftype?: string; sha256?: string; size?: number; path?: string; combined_type?: string; [k: string]: unknown };

/** `spec`: the tree's folder, or the http(s) URL it is served at. */
export async function listTree(spec: string): Promise<{ rows: ListRow[]; problems: TreeProblem[] }> {
  const problems: TreeProblem[] = [];
  const tree = await loadTree(openPreviousSource(spec), problems);
  const rows: ListRow[] = [];
  if (!tree) return { rows, problems };
  for (const { products } of tree.productsFiles.values()) {
    for (const [key, product] of Object.entries(products).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const aliases = typeof product.aliases === 'string' && product.aliases ? product.aliases.split(',') : [];
      const versions = Object.entries((product.versions ?? {}) as Record<string, { items?: Record<string, Item> }>).sort(([a], [b]) => (a < b ? 1 : -1));
      for (const [version, v] of versions) {
        const items = Object.values(v.items ?? {});
        const seen = new Set<string>();
        const add = (fingerprint: string | undefined, type: ListRow['type'], size: number) => {
          if (!fingerprint || seen.has(fingerprint)) return;
          seen.add(fingerprint);
          rows.push({ product: key, version, type, fingerprint, size, aliases });
        };
        for (const item of items) {
          if (UNIFIED_FTYPES.includes(item.ftype ?? '')) {
            add(item.sha256, item.combined_type === 'virtual-machine' ? 'virtual-machine' : 'container', item.size ?? 0);
          }
          const rootfs = item.ftype ? ROOTFS_FTYPES[item.ftype] : undefined;
          if (!rootfs) continue;
          for (const meta of items) {
            if (!METADATA_FTYPES.includes(meta.ftype ?? '')) continue;
            add(combinedFingerprint(meta, item.ftype!), rootfs.type, (meta.size ?? 0) + (item.size ?? 0));
          }
        }
      }
    }
  }
  return { rows, problems };
}
