// Lists what a published tree serves, one row per image, the way a client would see it.

import { loadTree, type TreeProblem } from './verify/tree.js';

export interface ListRow {
  product: string;
  version: string;
  type: 'container' | 'virtual-machine';
  fingerprint: string;
  size: number;
  aliases: string[];
}

const COMBINED: Record<string, [string, 'container' | 'virtual-machine']> = {
  squashfs: ['combined_squashfs_sha256', 'container'],
  'root.tar.xz': ['combined_rootxz_sha256', 'container'],
  'disk-kvm.img': ['combined_disk-kvm-img_sha256', 'virtual-machine'],
};

type Item = { ftype?: string; sha256?: string; size?: number; path?: string; combined_type?: string; [k: string]: unknown };

export async function listTree(root: string): Promise<{ rows: ListRow[]; problems: TreeProblem[] }> {
  const problems: TreeProblem[] = [];
  const tree = await loadTree(root, problems);
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
          if (item.ftype === 'lxd_combined.tar.gz' || item.ftype === 'incus_combined.tar.gz') {
            add(item.sha256, item.combined_type === 'virtual-machine' ? 'virtual-machine' : 'container', item.size ?? 0);
          }
          const c = item.ftype ? COMBINED[item.ftype] : undefined;
          if (!c) continue;
          for (const meta of items) {
            if ((meta.ftype === 'lxd.tar.xz' || meta.ftype === 'incus.tar.xz') && typeof meta[c[0]] === 'string') {
              add(meta[c[0]] as string, c[1], (meta.size ?? 0) + (item.size ?? 0));
            }
          }
        }
      }
    }
  }
  return { rows, problems };
}
