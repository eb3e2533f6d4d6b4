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
