// Builds real image files for tests and for the committed samples: tarballs (any compression),
// squashfs (mksquashfs), qcow2 (qemu-img), metadata.yaml, and a launchable busybox rootfs.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile, chmod, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { xz } from '@napi-rs/lzma';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  mode?: number;
  linkname?: string;
}

/** A fixed mtime so that fixture tarballs are byte-identical between runs. */
const MTIME = new Date('2026-01-01T00:00:00Z');

export async function tarball(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? (e.content !== undefined ? 'file' : 'directory');
    const header = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime: MTIME, uid: 0, gid: 0, linkname: e.linkname };
    if (type === 'file') pack.entry(header, e.content ?? '');
    else pack.entry(header);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function compress(data: Buffer, compression: Compression): Buffer {
  switch (compression) {
    case 'none':
      return data;
    case 'gzip':
      return gzipSync(data, { level: 6 });
    case 'xz':
      return xz.compressSync(data);
    case 'zstd':
      return execFileSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 30 });
    case 'bzip2':
      return execFileSync('bzip2', ['-c'], { input: data, maxBuffer: 1 << 30 });
  }
}

export interface MetadataOptions {
  architecture?: string;
  creationDate?: number;
  os?: string;
  release?: string;
  variant?: string;
  serial?: string;
  description?: string;
  extra?: Record<string, string>;
}

export function metadataYaml(o: MetadataOptions = {}): string {
  const props: Record<string, string> = {
    os: o.os ?? 'testos',
    release: o.release ?? '1.0',
    ...(o.variant ? { variant: o.variant } : {}),
    ...(o.serial ? { serial: o.serial } : {}),
    description: o.description ?? `${o.os ?? 'testos'} ${o.release ?? '1.0'}`,
    ...o.extra,
  };
  const lines = Object.entries(props).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  return `architecture: ${o.architecture ?? 'x86_64'}\ncreation_date: ${o.creationDate ?? 1793577600}\nproperties:\n${lines.join('\n')}\n`;
}

/** A metadata tarball (metadata.yaml + a template). */
export async function metadataTarball(meta: MetadataOptions, compression: Compression = 'xz'): Promise<Buffer> {
  return compress(
    await tarball([
      { name: 'metadata.yaml', content: metadataYaml(meta) },
      { name: 'templates/' },
      { name: 'templates/hostname.tpl', content: '{{ container.name }}\n' },
    ]),
    compression,
  );
}

/** Entries of a tiny root filesystem with a marker file; not bootable. */
export function markerRootfs(marker: string, prefix = ''): TarEntry[] {
  return [
    { name: `${prefix}etc/` },
    { name: `${prefix}etc/os-release`, content: `NAME=testos\nID=testos\n` },
    { name: `${prefix}marker`, content: `${marker}\n` },
  ];
}

/** A root filesystem tarball (no metadata.yaml). */
export async function rootTarball(marker: string, compression: Compression = 'xz'): Promise<Buffer> {
  return compress(await tarball([{ name: './' }, ...markerRootfs(marker, './')]), compression);
}

/** A unified tarball: metadata.yaml + rootfs/ (container) or rootfs.img (VM). */
export async function unifiedTarball(meta: MetadataOptions, marker: string, opts: { vm?: boolean; compression?: Compression } = {}): Promise<Buffer> {
  const rootfs: TarEntry[] = opts.vm ? [{ name: 'rootfs.img', content: await qcow2Bytes() }] : [{ name: 'rootfs/' }, ...markerRootfs(marker, 'rootfs/')];
  return compress(await tarball([{ name: 'metadata.yaml', content: metadataYaml(meta) }, ...rootfs]), opts.compression ?? 'gzip');
}

export function haveTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function scratch(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'ss-fixture-'));
}

/** Writes `entries` as a folder tree (for mksquashfs). */
async function materialize(dir: string, entries: TarEntry[]): Promise<void> {
  for (const e of entries) {
    const full = path.join(dir, e.name);
    const type = e.type ?? (e.content !== undefined ? 'file' : 'directory');
    if (type === 'directory') await mkdir(full, { recursive: true });
    else if (type === 'symlink') {
      await mkdir(path.dirname(full), { recursive: true });
      await symlink(e.linkname!, full);
    } else {
      await mkdir(path.dirname(full), { recursive: true });
      await writeFile(full, e.content ?? '');
      if (e.mode) await chmod(full, e.mode);
    }
  }
}

/** A squashfs of `entries` (needs mksquashfs from squashfs-tools). */
export async function squashfs(entries: TarEntry[]): Promise<Buffer> {
  const dir = await scratch();
  try {
    await materialize(path.join(dir, 'root'), entries);
    const out = path.join(dir, 'root.squashfs');
    execFileSync(
      'mksquashfs',
      [path.join(dir, 'root'), out, '-all-root', '-noappend', '-no-progress', '-quiet', '-comp', 'xz', '-mkfs-time', '0', '-all-time', '0'],
      { stdio: 'ignore' },
    );
    return readFileSync(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A small empty qcow2 disk (needs qemu-img from qemu-utils). */
export async function qcow2Bytes(sizeMiB = 8): Promise<Buffer> {
  const dir = await scratch();
  try {
    const out = path.join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', out, `${sizeMiB}M`], { stdio: 'ignore' });
    return readFileSync(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A root filesystem that LXD can boot: static busybox as init (needs busybox-static). */
export async function busyboxRootfs(marker: string): Promise<TarEntry[]> {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox is not installed (apt-get install busybox-static)');
  const applets = ['sh', 'cat', 'ls', 'echo', 'sleep', 'mount', 'ps', 'true'];
  return [
    ...['bin', 'sbin', 'etc', 'dev', 'proc', 'sys', 'tmp', 'run', 'root', 'var'].map((d) => ({ name: `${d}/` })),
    { name: 'bin/busybox', content: readFileSync(busybox), mode: 0o755 },
    ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
    { name: 'sbin/init', type: 'symlink', linkname: '../bin/busybox' },
    { name: 'etc/inittab', content: '::sysinit:/bin/busybox true\n::shutdown:/bin/busybox true\n' },
    { name: 'etc/os-release', content: 'NAME="staticstreams busybox sample"\nID=busybox\n' },
    { name: 'marker', content: `${marker}\n` },
  ];
}

/** Copies a file into place, creating folders. */
export async function put(file: string, data: Buffer | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
}

export { copyFile };

/** The 512-byte tar header of a regular file of `size` bytes (its content is not produced). */
export async function tarHeader(name: string, size: number): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  pack.entry({ name, size, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 });
  await new Promise((r) => setImmediate(r));
  pack.destroy();
  return Buffer.concat(chunks).subarray(0, 512);
}

/**
 * A decompression bomb that is a valid tarball: `prefix` (tar entries without their end marker),
 * then a header announcing one file, then `members` compressed copies of 64 MiB of zeros (gzip,
 * xz, bzip2 and zstd all accept concatenated streams) holding the file and the end-of-archive
 * marker, so that a few hundred kilobytes expand to `members` × 64 MiB.
 */
export async function bombTarball(compression: Exclude<Compression, 'none'>, members: number, prefix: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  // xz through the xz command: @napi-rs/lzma stores runs of zeros without compressing them.
  const squeeze = (data: Buffer) =>
    compression === 'xz' ? execFileSync('xz', ['-c', '-6'], { input: data, maxBuffer: 1 << 30 }) : compress(data, compression);
  const zeros = squeeze(Buffer.alloc(64 * 2 ** 20));
  const head = squeeze(Buffer.concat([prefix, await tarHeader('data/zero', members * 64 * 2 ** 20 - 1024)]));
  return Buffer.concat([head, ...Array.from({ length: members }, () => zeros)]);
}
