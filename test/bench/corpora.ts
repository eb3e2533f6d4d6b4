// Generates the benchmark corpora in a temporary folder: large images with incompressible data
// (split squashfs, split root tarball, unified tarballs) and many small products for index scale.

import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { compress, markerRootfs, metadataTarball, metadataYaml, rootTarball, tarball, unifiedTarball } from '../support/images.js';

const MiB = 1024 * 1024;

/** Writes `size` random bytes after `head`, in chunks (never the whole file in memory). */
async function randomFile(file: string, size: number, head?: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'w');
  const chunk = Buffer.allocUnsafe(16 * MiB);
  let written = 0;
  try {
    if (head) {
      await handle.write(head);
      written = head.length;
    }
    while (written < size) {
      const n = Math.min(chunk.length, size - written);
      randomFillSync(chunk, 0, n);
      await handle.write(chunk, 0, n);
      written += n;
    }
  } finally {
    await handle.close();
  }
}

function squashfsHead(size: number): Buffer {
  const head = Buffer.alloc(96);
  head.write('hsqs', 0, 'latin1');
  head.writeUInt16LE(4, 28);
  head.writeBigUInt64LE(BigInt(size), 40);
  return head;
}

export interface LargeCorpus {
  images: string;
  /** Every input file, for the openssl baseline. */
  files: string[];
  bytes: number;
}

/** ≈ 4 GiB: two split squashfs images (1 GiB), a split root tarball (512 MiB), two unified tarballs (768 MiB; the second with metadata.yaml last). */
export async function largeCorpus(root: string, scale = 1): Promise<LargeCorpus> {
  const images = path.join(root, 'images');
  const files: string[] = [];
  const created = 1767225600;
  for (const [i, size] of [
    [1, 1024],
    [2, 1024],
  ] as const) {
    const dir = path.join(images, `squashfs-${i}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'lxd.tar.xz'), await metadataTarball({ os: 'bench', release: `sq${i}`, creationDate: created }));
    const bytes = Math.round(size * MiB * scale);
    await randomFile(path.join(dir, 'rootfs.squashfs'), bytes, squashfsHead(bytes));
    files.push(path.join(dir, 'lxd.tar.xz'), path.join(dir, 'rootfs.squashfs'));
  }
  {
    const dir = path.join(images, 'roottar');
    const work = path.join(root, 'work-roottar');
    await randomFile(path.join(work, 'blob'), Math.round(512 * MiB * scale));
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'lxd.tar.xz'), await metadataTarball({ os: 'bench', release: 'tar', creationDate: created }));
    execFileSync('tar', ['-C', work, '-cf', path.join(dir, 'rootfs.tar'), '.']);
    execFileSync('rm', ['-rf', work]);
    files.push(path.join(dir, 'lxd.tar.xz'), path.join(dir, 'rootfs.tar'));
  }
  for (const i of [1, 2]) {
    const work = path.join(root, `work-unified-${i}`);
    await mkdir(path.join(work, 'rootfs'), { recursive: true });
    await writeFile(path.join(work, 'metadata.yaml'), metadataYaml({ os: 'bench', release: `unified${i}`, creationDate: created }));
    await randomFile(path.join(work, 'rootfs', 'blob'), Math.round(768 * MiB * scale));
    const file = path.join(images, 'unified', `unified-${i}.tar`);
    await mkdir(path.dirname(file), { recursive: true });
    // The second has metadata.yaml as its last entry: reading its metadata means reading it all.
    execFileSync('tar', ['-C', work, '-cf', file, ...(i === 2 ? ['rootfs', 'metadata.yaml'] : ['metadata.yaml', 'rootfs'])]);
    execFileSync('rm', ['-rf', work]);
    files.push(file);
  }
  const { statSync } = await import('node:fs');
  return { images, files, bytes: files.reduce((n, f) => n + statSync(f).size, 0) };
}

/** One split squashfs image (`mib` MiB of random rootfs), for the object-storage upload. */
export async function uploadCorpus(root: string, mib: number): Promise<LargeCorpus> {
  const dir = path.join(root, 'images-upload', 'squashfs');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'lxd.tar.xz'), await metadataTarball({ os: 'bench', release: 'upload', creationDate: 1767225600 }));
  const bytes = Math.round(mib * MiB);
  await randomFile(path.join(dir, 'rootfs.squashfs'), bytes, squashfsHead(bytes));
  const files = [path.join(dir, 'lxd.tar.xz'), path.join(dir, 'rootfs.squashfs')];
  const { statSync } = await import('node:fs');
  return { images: path.dirname(dir), files, bytes: files.reduce((n, f) => n + statSync(f).size, 0) };
}

/** `products` small products, `versions` versions each (unified gzip tarballs of a few hundred bytes). */
export async function manyProducts(root: string, products: number, versions = 3): Promise<string> {
  const images = path.join(root, `images-${products}`);
  for (let p = 0; p < products; p++) {
    for (let v = 0; v < versions; v++) {
      const file = path.join(images, `p${p}`, `v${v}.tar.gz`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(
        file,
        await unifiedTarball(
          { os: `os${p % 50}`, release: `r${Math.floor(p / 50)}`, serial: `2026010${v + 1}_0000`, creationDate: 1767225600 + v * 86400 },
          `p${p}v${v}`,
        ),
      );
    }
  }
  return images;
}

/** `count` split squashfs images of `mib` MiB each, with the properties incus-simplestreams needs (variant, architecture). */
export async function peerCorpus(root: string, count: number, mib: number): Promise<LargeCorpus & { pairs: [string, string][] }> {
  const images = path.join(root, 'images-peer');
  const files: string[] = [];
  const pairs: [string, string][] = [];
  for (let i = 1; i <= count; i++) {
    const dir = path.join(images, `image-${i}`);
    await mkdir(dir, { recursive: true });
    const meta = path.join(dir, 'lxd.tar.xz');
    await writeFile(
      meta,
      await metadataTarball({ os: 'bench', release: `peer${i}`, variant: 'default', creationDate: 1767225600, extra: { architecture: 'amd64' } }),
    );
    const bytes = Math.round(mib * MiB);
    const rootfs = path.join(dir, 'rootfs.squashfs');
    await randomFile(rootfs, bytes, squashfsHead(bytes));
    files.push(meta, rootfs);
    pairs.push([meta, rootfs]);
  }
  const { statSync } = await import('node:fs');
  return { images, files, pairs, bytes: files.reduce((n, f) => n + statSync(f).size, 0) };
}

/**
 * `products` products × `versions` versions in the shape distrobuilder and `lxc image export`
 * give: per version a folder with an xz metadata tarball and a small xz root filesystem tarball.
 */
export async function splitProducts(root: string, products: number, versions = 3): Promise<string> {
  const images = path.join(root, `images-split-${products}`);
  const rootfs = await rootTarball('bench', 'xz');
  await writeSplitProducts(images, products, versions, () => rootfs);
  return images;
}

/** Writes `products` × `versions` split images (a folder per version: lxd.tar.xz and the root tarball `rootOf(version)`). */
async function writeSplitProducts(images: string, products: number, versions: number, rootOf: (version: number) => Buffer): Promise<void> {
  for (let p = 0; p < products; p++) {
    for (let v = 0; v < versions; v++) {
      const dir = path.join(images, `p${p}`, `v${v}`);
      await mkdir(dir, { recursive: true });
      await writeFile(
        path.join(dir, 'lxd.tar.xz'),
        await metadataTarball({ os: `os${p % 50}`, release: `r${Math.floor(p / 50)}`, serial: `2026010${v + 1}_0000`, creationDate: 1767225600 + v * 86400 }),
      );
      await writeFile(path.join(dir, 'rootfs.tar.xz'), rootOf(v));
    }
  }
}

/** The first `count` installed packages of this machine's dpkg status, with every version suffixed by `bump` (a later build of the image). */
export function dpkgStatus(count: number, bump = ''): string {
  const stanzas = readFileSync('/var/lib/dpkg/status', 'utf8')
    .split(/\n\n+/)
    .filter((s) => /^Status: install ok installed$/m.test(s))
    .slice(0, count);
  return `${stanzas.map((s) => (bump ? s.replace(/^Version: (.*)$/m, (_, v: string) => `Version: ${v}${bump}`) : s)).join('\n\n')}\n`;
}

/**
 * Like splitProducts, each root filesystem holding a dpkg status of `packages` packages (a
 * minimal Debian container has about 100), the newer versions with every package upgraded.
 */
export async function packagedProducts(root: string, products: number, versions = 3, packages = 120): Promise<string> {
  const images = path.join(root, `images-packaged-${products}`);
  const roots = await Promise.all(
    Array.from({ length: versions }, async (_, v) =>
      compress(await tarball([...markerRootfs('bench', './'), { name: './var/lib/dpkg/status', content: dpkgStatus(packages, v ? `+b${v}` : '') }]), 'xz'),
    ),
  );
  await writeSplitProducts(images, products, versions, (v) => roots[v]!);
  return images;
}

/** One root tarball of `mib` MiB of random data and this machine's whole dpkg status (hash-bound), with its metadata tarball. */
export async function packagedLargeTarball(root: string, mib: number): Promise<string> {
  const images = path.join(root, 'images-packaged-large');
  const work = path.join(root, 'work-packaged-large');
  await randomFile(path.join(work, 'blob'), Math.round(mib * MiB));
  await mkdir(path.join(work, 'var/lib/dpkg'), { recursive: true });
  await writeFile(path.join(work, 'var/lib/dpkg/status'), dpkgStatus(100_000));
  await mkdir(path.join(images, 'big'), { recursive: true });
  await writeFile(path.join(images, 'big', 'lxd.tar.xz'), await metadataTarball({ os: 'bench', release: 'packaged', creationDate: 1767225600 }));
  execFileSync('tar', ['-C', work, '-cf', path.join(images, 'big', 'rootfs.tar'), '.']);
  execFileSync('rm', ['-rf', work]);
  return images;
}
