// Synthetic catalogs for site tests: N valid products (OS × release × variant × architecture),
// deterministic, with optional metadata text to check escaping. Valid by the catalog schema.

import { createHash } from 'node:crypto';
import { catalogSchema, type Catalog } from '../../generator/formats/catalog.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const OSES = ['ubuntu', 'debian', 'alpine', 'fedora', 'archlinux', 'rockylinux', 'opensuse', 'busybox'];
const VARIANTS = ['default', 'cloud', 'minimal', 'desktop'];
const ARCHES: [string, string][] = [
  ['amd64', 'x86_64'],
  ['arm64', 'aarch64'],
  ['riscv64', 'riscv64'],
];

export function syntheticCatalog(products: number, opts: { description?: (i: number) => string; baseUrl?: string } = {}): Catalog {
  const list: Catalog['products'] = [];
  for (let i = 0; list.length < products; i++) {
    const os = OSES[i % OSES.length]!;
    const release = `${10 + Math.floor(i / (OSES.length * VARIANTS.length))}.${i % 2 ? '04' : '10'}`;
    const variant = VARIANTS[Math.floor(i / OSES.length) % VARIANTS.length]!;
    for (const [arch, architecture] of ARCHES) {
      if (list.length >= products) break;
      const key = `${os}:${release}:${arch}:${variant}`;
      const versions = [20261120, 20261001].map((day, v) => {
        const fp = sha(`${key}:${v}`);
        const vm = variant === 'desktop';
        return {
          version: `${day}_0000`,
          images: [
            {
              type: vm ? ('virtual-machine' as const) : ('container' as const),
              fingerprint: fp,
              size: 100_000_000 + i,
              clients: ['lxd' as const, 'incus' as const],
              created: new Date(Date.UTC(2026, v ? 9 : 10, v ? 1 : 20)).toISOString(),
              serial: `${day}_0000`,
              description: opts.description?.(i) ?? `${os} ${release} ${variant} (${arch})`,
              files: [
                {
                  path: `images/${os}/${release}/${arch}/${variant}/${day}/meta-${fp.slice(0, 8)}.tar.xz`,
                  ftype: 'lxd.tar.xz',
                  sha256: sha(`m${fp}`),
                  size: 1024,
                },
                {
                  path: `images/${os}/${release}/${arch}/${variant}/${day}/${vm ? 'disk' : 'rootfs'}-${fp.slice(0, 8)}.${vm ? 'qcow2' : 'squashfs'}`,
                  ftype: vm ? 'disk-kvm.img' : 'squashfs',
                  sha256: sha(`r${fp}`),
                  size: 100_000_000 + i - 1024,
                },
              ],
            },
          ],
        };
      });
      list.push({
        key,
        os,
        release,
        variant,
        arch,
        architecture,
        aliases: [`${os}/${release}/${variant}`, ...(variant === 'default' ? [`${os}/${release}`] : [])],
        releaseTitle: release,
        requirements: variant === 'desktop' ? { secureboot: 'false' } : {},
        versions,
      });
    }
  }
  return catalogSchema.parse({
    format: 'staticstreams-catalog:1',
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    updated: '2026-11-20T00:00:00.000Z',
    streams: { index: 'streams/v1/index.json', products: 'streams/v1/images-0123456789abcdef.json' },
    aliasEndpoints: {},
    products: list,
  });
}

/** The import endpoints' fixture: a container on amd64 and arm64 under one alias, and an Incus-only VM. */
export const FP_AMD = 'a'.repeat(64);
export const FP_ARM = 'b'.repeat(64);
export const FP_VM = 'c'.repeat(64);

export function importCatalog(baseUrl?: string): Pick<Catalog, 'products' | 'baseUrl'> {
  const image = (fp: string, type: 'container' | 'virtual-machine', clients: ('lxd' | 'incus')[], p: string) => ({
    type,
    fingerprint: fp,
    size: 1,
    clients,
    created: '2026-01-01T00:00:00.000Z',
    files: [{ path: p, ftype: 'lxd_combined.tar.gz', sha256: fp, size: 1 }],
  });
  const product = (arch: string, images: ReturnType<typeof image>[], aliases: string[]) => ({
    key: `os:1:${arch}:default`,
    os: 'os',
    release: '1',
    variant: 'default',
    arch,
    architecture: arch,
    aliases,
    releaseTitle: '1',
    requirements: {},
    versions: [{ version: '20260101_0000', images }],
  });
  return {
    ...(baseUrl ? { baseUrl } : {}),
    products: [
      product('amd64', [image(FP_AMD, 'container', ['lxd', 'incus'], 'images/a.tar.gz')], ['os/1', 'os/1/default']),
      product('arm64', [image(FP_ARM, 'container', ['lxd', 'incus'], 'images/b.tar.gz')], ['os/1', 'os/1/default']),
      { ...product('amd64', [image(FP_VM, 'virtual-machine', ['incus'], 'images/c.tar.gz')], ['os/1/vm']), key: 'os:1:amd64:vm', variant: 'vm' },
    ],
  };
}
