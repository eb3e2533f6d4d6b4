// plan/select: what a mirror copies. Table-driven over filters and keep, on products planned
// from hashed images as the build plans them; then the type filter's cut through a version
// (shared metadata items lose the combined hash of what is left out; deltas and LXC's files go
// with the container images).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectProducts } from '../../generator/plan/select.js';
import { parseFilters } from '../../generator/config/filters.js';
import { planProducts, type PlannedProduct, type PlannedVersion } from '../../generator/plan/products.js';
import { DEFAULT_CONFIG } from '../../generator/config/config.js';
import { hashedImage, hex, plannedFile } from '../support/builders.js';

const products = planProducts(
  [
    hashedImage('deb12', { os: 'debian', release: '12', serial: '20260101_00:00' }),
    hashedImage('deb12b', { os: 'debian', release: '12', serial: '20260102_00:00' }),
    hashedImage('deb12c', { os: 'debian', release: '12', serial: '20260103_00:00' }),
    hashedImage('deb12arm', { os: 'debian', release: '12', arch: 'aarch64', serial: '20260101_00:00' }),
    hashedImage('deb12vm', { os: 'debian', release: '12', serial: '20260103_00:00', rootfs: 'qcow2', metaName: 'deb12vm/lxd.tar.xz' }),
    hashedImage('alp', { os: 'Alpine', release: '3.20', variant: 'cloud', serial: '20260101_00:00' }),
  ],
  DEFAULT_CONFIG,
).plan.products;

const names = (selected: PlannedProduct[]) => selected.flatMap((p) => p.versions.map((v) => `${p.key} ${v.key} ${v.images.map((i) => i.type[0]).join('')}`));

describe('what a mirror selects', () => {
  const cases: [string, string[], number | undefined, string[]][] = [
    [
      'no filter: everything',
      [],
      undefined,
      [
        'Alpine:3.20:amd64:cloud 20260101_00:00 c',
        'debian:12:amd64:default 20260101_00:00 c',
        'debian:12:amd64:default 20260102_00:00 c',
        'debian:12:amd64:default 20260103_00:00 cv',
        'debian:12:arm64:default 20260101_00:00 c',
      ],
    ],
    ['os, any case, and keep 1', ['os=DEBIAN'], 1, ['debian:12:amd64:default 20260103_00:00 cv', 'debian:12:arm64:default 20260101_00:00 c']],
    ['arch by its LXD name', ['arch=aarch64'], undefined, ['debian:12:arm64:default 20260101_00:00 c']],
    ['the same key twice: either', ['variant=cloud', 'variant=nothing'], undefined, ['Alpine:3.20:amd64:cloud 20260101_00:00 c']],
    [
      'different keys: all',
      ['os=debian', 'arch=amd64', 'release=1*'],
      2,
      ['debian:12:amd64:default 20260102_00:00 c', 'debian:12:amd64:default 20260103_00:00 cv'],
    ],
    ['an alias glob, with its architecture', ['alias=debian/12/arm64'], undefined, ['debian:12:arm64:default 20260101_00:00 c']],
    ['type vm: only versions with a VM, only the VM', ['type=vm'], undefined, ['debian:12:amd64:default 20260103_00:00 v']],
    ['nothing matches', ['os=fedora'], undefined, []],
    [
      'a version (what promote picks), with the product filters',
      ['version=20260102*', 'version=20260103_00:00', 'arch=amd64', 'os=debian'],
      undefined,
      ['debian:12:amd64:default 20260102_00:00 c', 'debian:12:amd64:default 20260103_00:00 cv'],
    ],
  ];
  for (const [what, filters, keep, expected] of cases) {
    it(what, () => assert.deepEqual(names(selectProducts(products, parseFilters(filters), keep)), expected));
  }
});

describe("the type filter's cut through a version", () => {
  /** The newest debian amd64 version (container + VM), with a delta and LXC's files as a build with --deltas --lxc leaves it. */
  const full = (): PlannedVersion => {
    const v = products.find((p) => p.key === 'debian:12:amd64:default')!.versions.at(-1)!;
    const container = v.images.find((i) => i.type === 'container')!;
    const dir = container.files[1]!.file.path.replace(/\/[^/]+$/, '');
    const file = (name: string, n: number) => plannedFile(`${dir}/${name}`, hex(n), n);
    const root = file('lxc-0123456789abcdef/rootfs.tar.xz', 2);
    return {
      ...v,
      items: [
        ...v.items.map((i) => (i.key === 'lxd.tar.xz' ? { ...i, combined: { ...i.combined, combined_rootxz_sha256: hex(9) } } : i)),
        { key: 'squashfs.vcdiff.20260102_00:00', ftype: 'squashfs.vcdiff', file: file('delta.vcdiff', 3), combined: {}, deltaBase: '20260102_00:00' },
        { key: 'lxc.meta.tar.xz', ftype: 'lxc.meta.tar.xz', file: file('lxc-0123456789abcdef/meta.tar.xz', 1), combined: {} },
        { key: 'root.tar.xz', ftype: 'root.tar.xz', file: root, combined: {} },
      ],
      images: [...v.images, { ...container, fingerprint: hex(9), files: [container.files[0]!, { ftype: 'root.tar.xz', file: root }] }],
    };
  };
  const cut = (type: string) => {
    const product = { ...products.find((p) => p.key === 'debian:12:amd64:default')!, versions: [full()] };
    const v = selectProducts([product], parseFilters([`type=${type}`]))[0]!.versions[0]!;
    return { keys: v.items.map((i) => i.key).sort(), combined: Object.keys(v.items.find((i) => i.key === 'lxd.tar.xz')?.combined ?? {}).sort() };
  };

  it('containers: the squashfs, its delta, LXC files and the root tarball image; not the VM', () => {
    const { keys, combined } = cut('container');
    assert.deepEqual(keys, ['incus.tar.xz', 'lxc.meta.tar.xz', 'lxd.tar.xz', 'root.squashfs', 'root.tar.xz', 'squashfs.vcdiff.20260102_00:00']);
    assert.deepEqual(combined, ['combined_rootxz_sha256', 'combined_squashfs_sha256']);
  });

  it('VMs: the disk and its metadata only', () => {
    const { keys } = cut('vm');
    assert.deepEqual(keys, ['disk.qcow2', 'incus-vm.tar.xz', 'lxd-vm.tar.xz']);
  });
});
