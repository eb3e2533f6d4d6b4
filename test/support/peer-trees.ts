// Trees made by other tools, for adoption tests:
// - incusSimplestreamsTree: made by the real peer tool, `incus-simplestreams add` (Incus 6.0,
//   bookworm-backports' incus-extra), run inside the tree's folder as its users do.
// - maintainerTree: the shape of images.lxd.canonical.com as simplestream-maintainer writes it
//   and LXD's client reads it: images/OS/RELEASE/ARCH/VARIANT/VERSION/ folders, one lxd.tar.xz
//   item carrying both combined_squashfs_sha256 and combined_disk-kvm-img_sha256, squashfs
//   .vcdiff deltas with delta_base (made with the real xdelta3), images.yaml and SHA256SUMS per
//   version, version keys YYYYMMDD_HHMM, LXD-only items.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

/** Adds each (metadata, rootfs) pair with the real `incus-simplestreams add`, in order. */
export function incusSimplestreamsTree(tree: string, pairs: [meta: string, rootfs: string][]): void {
  mkdirSync(tree, { recursive: true });
  for (const [meta, rootfs] of pairs) execFileSync('incus-simplestreams', ['add', meta, rootfs], { cwd: tree, stdio: 'pipe' });
}

export interface MaintainerVersion {
  key: string;
  meta: Buffer;
  squashfs: Buffer;
  qcow2?: Buffer;
}

/** Writes a simplestream-maintainer-shaped tree of one product; returns its products-file path. */
export function maintainerTree(
  tree: string,
  product: { os: string; release: string; arch: string; variant: string; aliases: string },
  versions: MaintainerVersion[],
): string {
  const productKey = `${product.os}:${product.release}:${product.arch}:${product.variant}`;
  const out: Record<string, { items: Record<string, Record<string, unknown>> }> = {};
  let previous: { key: string; file: string } | undefined;
  for (const v of versions) {
    const rel = `images/${product.os}/${product.release}/${product.arch}/${product.variant}/${v.key}`;
    const dir = path.join(tree, rel);
    mkdirSync(dir, { recursive: true });
    const files: Record<string, Buffer> = { 'lxd.tar.xz': v.meta, 'root.squashfs': v.squashfs, ...(v.qcow2 ? { 'disk.qcow2': v.qcow2 } : {}) };
    for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data);
    if (previous)
      execFileSync('xdelta3', ['-e', '-f', '-s', previous.file, path.join(dir, 'root.squashfs'), path.join(dir, `${previous.key}.vcdiff`)], {
        stdio: 'ignore',
      });
    const item = (ftype: string, name: string, extra: Record<string, unknown> = {}) => {
      const data = readFileSync(path.join(dir, name));
      return { ftype, path: `${rel}/${name}`, sha256: sha256(data), size: data.length, ...extra };
    };
    const items: Record<string, Record<string, unknown>> = {
      'lxd.tar.xz': item('lxd.tar.xz', 'lxd.tar.xz', {
        combined_squashfs_sha256: sha256(v.meta, v.squashfs),
        ...(v.qcow2 ? { 'combined_disk-kvm-img_sha256': sha256(v.meta, v.qcow2) } : {}),
      }),
      'root.squashfs': item('squashfs', 'root.squashfs'),
      ...(v.qcow2 ? { 'disk.qcow2': item('disk-kvm.img', 'disk.qcow2') } : {}),
      ...(previous ? { [`${previous.key}.vcdiff`]: item('squashfs.vcdiff', `${previous.key}.vcdiff`, { delta_base: previous.key }) } : {}),
    };
    out[v.key] = { items };
    writeFileSync(path.join(dir, 'images.yaml'), `format: images:1.0\n`);
    writeFileSync(
      path.join(dir, 'SHA256SUMS'),
      Object.values(items)
        .map((i) => `${i.sha256}  ${path.basename(i.path as string)}\n`)
        .join(''),
    );
    previous = { key: v.key, file: path.join(dir, 'root.squashfs') };
  }
  const productsPath = 'streams/v1/images.json';
  mkdirSync(path.join(tree, 'streams/v1'), { recursive: true });
  writeFileSync(
    path.join(tree, productsPath),
    JSON.stringify({
      content_id: 'images',
      datatype: 'image-downloads',
      format: 'products:1.0',
      products: { [productKey]: { ...product, release_title: product.release, requirements: {}, versions: out } },
    }),
  );
  writeFileSync(
    path.join(tree, 'streams/v1/index.json'),
    JSON.stringify({
      format: 'index:1.0',
      index: { images: { datatype: 'image-downloads', path: productsPath, format: 'products:1.0', products: [productKey] } },
    }),
  );
  return productsPath;
}
