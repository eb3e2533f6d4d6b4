// Shared builders for the core types the pure stages pass around, so unit tests describe what
// matters to them (a version key, a fingerprint, an architecture) and nothing else.

import { createHash } from 'node:crypto';
import { parseMetadata } from '../../generator/ingest/metadata.js';
import type { HashedFile, HashedImage } from '../../generator/ingest/model.js';
import type { PlannedFile, PlannedProduct, PlannedVersion } from '../../generator/plan/products.js';
import { versionKeyTime } from '../../generator/simplestreams/version-key.js';

/** A 64-hex-digit value made from a number: a readable stand-in for a sha256. */
export const hex = (n: number) => n.toString(16).padStart(64, '0');

/** sha256 of a string. */
export const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A file of a published tree (origin `previous`) at `path`, with the sha256 and size given (defaults: hex(1), 100 bytes). */
export const plannedFile = (path: string, sha256 = hex(1), size = 100): PlannedFile => ({ origin: { kind: 'previous' }, path, sha256, size });

/** A published version holding one unified container image (fingerprint `hex(fp)`), listed for both clients. */
export function plannedVersion(key: string, fp: number, created = versionKeyTime(key)): PlannedVersion {
  const file = plannedFile(`images/x/${key}/image-${hex(fp).slice(0, 16)}.tar.gz`, hex(fp), 100 + fp);
  return {
    key,
    items: [
      { key: 'lxd_combined.tar.gz', ftype: 'lxd_combined.tar.gz', file, combined: {} },
      { key: 'incus_combined.tar.gz', ftype: 'incus_combined.tar.gz', file, combined: {} },
    ],
    images: [
      {
        fingerprint: hex(fp),
        type: 'container',
        clients: ['incus', 'lxd'],
        size: file.size,
        files: [{ ftype: 'lxd_combined.tar.gz', file }],
        created,
        label: `fp${fp}`,
      },
    ],
  };
}

/** A product `os:release:arch:variant` with these versions and aliases. */
export function plannedProduct(key: string, versions: PlannedVersion[], aliases: string[] = []): PlannedProduct {
  const [os, release, arch, variant] = key.split(':') as [string, string, string, string];
  return { key, os, release, arch, canonicalArch: 'x86_64', variant, aliases, releaseTitle: release, requirements: {}, versions };
}

/** An input file as hashing leaves it. */
export const hashedFile = (rel: string, part: HashedFile['part'], size = 10): HashedFile => ({
  source: { path: `/in/${rel}`, rel, size, dev: 1, ino: 1, mtimeMs: 0, ctimeMs: 0 },
  sha256: sha(rel),
  size,
  part,
  compression: part === 'metadata' ? 'xz' : part === 'unified' ? 'gzip' : part === 'root-tarball' ? 'xz' : 'none',
});

/** A hashed image named `name` (split with a squashfs unless `rootfs` says otherwise), with metadata.yaml made from the options. */
export function hashedImage(
  name: string,
  o: {
    arch?: string;
    os?: string;
    release?: string;
    variant?: string;
    serial?: string;
    rootfs?: HashedFile['part'];
    props?: Record<string, string>;
    metaName?: string;
  } = {},
): HashedImage {
  const props: Record<string, string> = {
    os: o.os ?? 'debian',
    release: o.release ?? '12',
    ...(o.variant ? { variant: o.variant } : {}),
    serial: o.serial ?? '20260101_00:00',
    ...o.props,
  };
  const yaml = `architecture: ${o.arch ?? 'x86_64'}\ncreation_date: 1767225600\nproperties:\n${Object.entries(props)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join('\n')}\n`;
  const metadata = parseMetadata(Buffer.from(yaml));
  const rootfs = o.rootfs ?? 'squashfs';
  if (rootfs === 'unified') {
    const f = hashedFile(`${name}.tar.gz`, 'unified');
    return { kind: 'unified', type: 'container', metadata, fingerprint: f.sha256, files: [f] };
  }
  return {
    kind: 'split',
    type: rootfs === 'qcow2' ? 'virtual-machine' : 'container',
    metadata,
    fingerprint: sha(`fp:${name}`),
    files: [hashedFile(o.metaName ?? `${name}/lxd.tar.xz`, 'metadata'), hashedFile(`${name}/root`, rootfs)],
  };
}
