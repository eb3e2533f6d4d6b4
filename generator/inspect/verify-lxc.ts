// The LXC side of `verify`: the index LXC's `download` template reads (meta/1.0/index-system.7,
// falling back to index-system) names, for each product, a folder whose meta.tar.xz and
// rootfs.tar.xz must exist and unpack to their end; and it should name the newest version of
// each product the products files give LXC files, so LXC gets the build LXD and Incus get.

import { lxcFilesOf } from '../simplestreams/images.js';
import { isObject } from '../util/json.js';
import { compareVersionKeys } from '../simplestreams/version-key.js';
import { LXC_FILE_NAMES } from '../simplestreams/ftypes.js';
import { LXC_INDEX_PATHS, parseLxcIndex } from '../render/lxc.js';
import type { TreeSource } from '../source/source.js';
import type { TreeProblem } from '../source/tree.js';

/** What verify knows of a file it read: missing, unreadable, or why it would not unpack. */
export type FileCheck = (rel: string) => Promise<{ missing?: true; failed?: string; broken?: string }>;

/** `products`: the products of every products file the index lists. */
export async function checkLxcIndex(source: TreeSource, products: Record<string, unknown>[], check: FileCheck): Promise<TreeProblem[]> {
  const problems: TreeProblem[] = [];
  const err = (where: string, message: string) => problems.push({ severity: 'error', where, message });
  const warn = (where: string, message: string) => problems.push({ severity: 'warning', where, message });
  // Per product: its versions with LXC files (folder → version key), and the newest one.
  const listed = new Map<string, { product: string; version: string }>();
  const newest = new Map<string, { version: string; dir: string }>();
  for (const file of products)
    for (const [key, product] of Object.entries(file)) {
      if (!isObject(product) || !isObject(product.versions)) continue;
      for (const [vkey, version] of Object.entries(product.versions)) {
        if (!isObject(version) || !isObject(version.items)) continue;
        const lxc = lxcFilesOf(version.items as Record<string, { ftype: string; path: string }>);
        if (!lxc) continue;
        listed.set(lxc.dir, { product: key, version: vkey });
        const n = newest.get(key);
        if (!n || compareVersionKeys(n.version, vkey) < 0) newest.set(key, { version: vkey, dir: lxc.dir });
      }
    }
  const [system, system7] = [LXC_INDEX_PATHS[0], LXC_INDEX_PATHS[1]];
  let at: string = system7;
  let text = await source.readText(system7).catch(() => null);
  if (text === null) {
    at = system;
    text = await source.readText(system).catch(() => null);
  }
  if (text === null) {
    if (newest.size) warn(system, `is missing, but ${newest.size} products have LXC files: lxc-create -t download cannot find them (rebuild with --lxc)`);
    return problems;
  }
  const seen = new Set<string>();
  for (const { line, fields } of parseLxcIndex(text)) {
    const where = `${at}:${line}`;
    if (fields.length !== 6 || fields.slice(0, 5).some((f) => f === '')) {
      err(where, 'is not dist;release;arch;variant;build;/path/: LXC skips it');
      continue;
    }
    const folder = fields[5]!;
    const dir = folder.replace(/^\/+|\/+$/g, '');
    if (!folder.startsWith('/') || !folder.endsWith('/') || dir.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      err(where, `path ${JSON.stringify(folder)} must be a folder of the tree written /…/`);
      continue;
    }
    for (const name of [LXC_FILE_NAMES.meta, LXC_FILE_NAMES.rootfs]) {
      const rel = `${dir}/${name}`;
      const st = await check(rel);
      if (st.missing) err(where, `${rel} is missing: lxc-create fails to download it`);
      else if (st.failed) err(where, `${rel} could not be read to its end: ${st.failed}`);
      else if (st.broken) err(where, `${rel} ${st.broken}: lxc-create fails when it unpacks it`);
    }
    const of = listed.get(dir);
    if (of) {
      seen.add(of.product);
      const n = newest.get(of.product)!;
      if (n.version !== of.version)
        warn(where, `names version ${of.version} of ${of.product}, but ${n.version} is newer: LXC gets an older build than LXD and Incus`);
    }
  }
  for (const key of newest.keys()) if (!seen.has(key)) warn(at, `does not list ${key}, which has LXC files: lxc-create cannot find it`);
  for (const other of LXC_INDEX_PATHS) {
    if (other === at) continue;
    const t = await source.readText(other).catch(() => null);
    if (t !== null && t !== text) warn(other, `differs from ${at}: LXC reads one or the other depending on its version and privileges`);
  }
  return problems;
}
