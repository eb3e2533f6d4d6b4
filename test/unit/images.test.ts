// simplestreams/images.ts: how the items of one version pair into images (the one function every
// reader uses), table-driven over the shapes trees really have.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { imagesOf, pairingGaps, type PairableItem } from '../../generator/simplestreams/images.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const item = (ftype: string, extra: Record<string, string> = {}): PairableItem => ({ ftype, sha256: `sha-${ftype}`, ...extra });

/** Each image as "fingerprint type clients meta+rootfs|unified". */
const shapes = (items: Record<string, PairableItem>) =>
  imagesOf(items).map(
    (i) => `${i.fingerprint.slice(0, 1)} ${i.type} ${i.clients.join(',')} ${i.unified ? `unified:${i.unified.key}` : `${i.meta!.key}+${i.rootfs!.key}`}`,
  );

const CASES: [string, Record<string, PairableItem>, string[]][] = [
  [
    'a squashfs with its metadata, for LXD only (simplestream-maintainer)',
    { 'lxd.tar.xz': item('lxd.tar.xz', { combined_squashfs_sha256: A }), 'root.squashfs': item('squashfs') },
    ['a container lxd lxd.tar.xz+root.squashfs'],
  ],
  [
    'the same metadata listed for both clients: one image both see (images.linuxcontainers.org)',
    {
      'lxd.tar.xz': item('lxd.tar.xz', { combined_squashfs_sha256: A }),
      'incus.tar.xz': item('incus.tar.xz', { combined_squashfs_sha256: A }),
      'root.squashfs': item('squashfs'),
    },
    ['a container incus,lxd lxd.tar.xz+root.squashfs'],
  ],
  [
    'a container and a VM of one version share the metadata item',
    {
      'incus.tar.xz': item('incus.tar.xz', { combined_squashfs_sha256: A, 'combined_disk-kvm-img_sha256': B }),
      'root.squashfs': item('squashfs'),
      'disk.qcow2': item('disk-kvm.img'),
    },
    ['a container incus incus.tar.xz+root.squashfs', 'b virtual-machine incus incus.tar.xz+disk.qcow2'],
  ],
  [
    'a root tarball pairs through combined_rootxz_sha256, or the older combined_sha256',
    { 'lxd.tar.xz': item('lxd.tar.xz', { combined_sha256: C }), 'root.tar.xz': item('root.tar.xz') },
    ['c container lxd lxd.tar.xz+root.tar.xz'],
  ],
  ['a rootfs without a metadata item that names it: no image', { 'root.squashfs': item('squashfs'), 'lxd.tar.xz': item('lxd.tar.xz') }, []],
  [
    'unified items: one image each, a VM by combined_type, fingerprint = sha256',
    {
      'lxd_combined.tar.gz': { ftype: 'lxd_combined.tar.gz', sha256: A },
      'incus_combined.tar.gz': { ftype: 'incus_combined.tar.gz', sha256: A },
      'vm.tar.gz': { ftype: 'incus_combined.tar.gz', sha256: B, combined_type: 'virtual-machine' },
    },
    ['a container incus,lxd unified:lxd_combined.tar.gz', 'b virtual-machine incus unified:vm.tar.gz'],
  ],
  [
    'deltas and unknown ftypes are no images; items without an ftype are skipped',
    {
      'lxd.tar.xz': item('lxd.tar.xz', { combined_squashfs_sha256: A }),
      'root.squashfs': item('squashfs'),
      'x.vcdiff': item('squashfs.vcdiff'),
      manifest: item('manifest'),
      broken: { sha256: 'x' } as unknown as PairableItem,
    },
    ['a container lxd lxd.tar.xz+root.squashfs'],
  ],
];

describe('imagesOf', () => {
  for (const [name, items, expected] of CASES)
    it(name, () => {
      assert.deepEqual(shapes(items), expected);
    });

  it('takes entries as a list too, in the same order', () => {
    const items = { 'lxd.tar.xz': item('lxd.tar.xz', { combined_squashfs_sha256: A }), 'root.squashfs': item('squashfs') };
    assert.deepEqual(imagesOf(Object.entries(items)), imagesOf(items));
  });
});

/** Each gap as "rootfs-key client gap field". */
const gaps = (items: Record<string, PairableItem>) => pairingGaps(items).map((g) => `${g.rootfs.key} ${g.client} ${g.gap} ${g.field}`);

const GAP_CASES: [string, Record<string, PairableItem>, string[]][] = [
  [
    'both clients see it: no gap',
    {
      'lxd.tar.xz': item('lxd.tar.xz', { combined_squashfs_sha256: A }),
      'incus.tar.xz': item('incus.tar.xz', { combined_squashfs_sha256: A }),
      'root.squashfs': item('squashfs'),
    },
    [],
  ],
  [
    'an Incus-only tree (incus-simplestreams): LXD has no metadata item',
    { 'incus.tar.xz': item('incus.tar.xz', { combined_squashfs_sha256: A }), 'root.squashfs': item('squashfs') },
    ['root.squashfs lxd no-metadata combined_squashfs_sha256'],
  ],
  [
    "a VM whose metadata carries only the container's hash: neither client sees the VM",
    {
      'lxd.tar.xz': item('lxd.tar.xz', { combined_squashfs_sha256: A }),
      'incus.tar.xz': item('incus.tar.xz', { combined_squashfs_sha256: A }),
      'root.squashfs': item('squashfs'),
      'disk.qcow2': item('disk-kvm.img'),
    },
    ['disk.qcow2 lxd no-fingerprint combined_disk-kvm-img_sha256', 'disk.qcow2 incus no-fingerprint combined_disk-kvm-img_sha256'],
  ],
  [
    'two LXD metadata items carry the hash: which one goes with the rootfs is ambiguous',
    {
      'lxd.tar.xz': item('lxd.tar.xz', { combined_rootxz_sha256: A }),
      'lxd-2.tar.xz': item('lxd.tar.xz', { combined_sha256: B }),
      'root.tar.xz': item('root.tar.xz'),
      'incus.tar.xz': item('incus.tar.xz', { combined_rootxz_sha256: C }),
    },
    ['root.tar.xz lxd ambiguous combined_rootxz_sha256'],
  ],
  ['unified images and deltas have no gaps', { 'lxd_combined.tar.gz': item('lxd_combined.tar.gz'), 'x.vcdiff': item('squashfs.vcdiff') }, []],
];

describe('pairingGaps', () => {
  for (const [name, items, expected] of GAP_CASES)
    it(name, () => {
      assert.deepEqual(gaps(items), expected);
    });

  it('an image both clients see keeps every metadata item that declares it', () => {
    const [image] = imagesOf({
      'lxd.tar.xz': item('lxd.tar.xz', { combined_squashfs_sha256: A }),
      'incus.tar.xz': item('incus.tar.xz', { combined_squashfs_sha256: A }),
      'root.squashfs': item('squashfs'),
    });
    assert.deepEqual(
      image!.metas!.map((m) => m.key),
      ['lxd.tar.xz', 'incus.tar.xz'],
    );
  });
});
