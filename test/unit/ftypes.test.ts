// simplestreams/ftypes and names: which metadata field gives each rootfs type its fingerprint (in
// the order clients look), every ftype a client reads, and what a product name part may be.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_TWIN, combinedFingerprint, KNOWN_FTYPES, LXC_META_FTYPE, LXC_ROOTFS_FTYPE, ROOTFS_FTYPES } from '../../generator/simplestreams/ftypes.js';
import { NAME_PART } from '../../generator/simplestreams/names.js';

describe('ftypes', () => {
  it("reads each rootfs type's fingerprint from its combined field, the first non-empty one winning", () => {
    const meta = { combined_squashfs_sha256: 'sq', combined_rootxz_sha256: '', combined_sha256: 'legacy', 'combined_disk-kvm-img_sha256': 'vm' };
    assert.equal(combinedFingerprint(meta, 'squashfs'), 'sq');
    assert.equal(combinedFingerprint(meta, 'root.tar.xz'), 'legacy', 'an empty combined_rootxz_sha256 falls back to combined_sha256');
    assert.equal(combinedFingerprint(meta, 'disk-kvm.img'), 'vm');
    assert.equal(combinedFingerprint(meta, 'disk1.img'), undefined);
    assert.equal(combinedFingerprint(meta, 'lxc.rootfs.tar.xz'), undefined, 'not a rootfs the clients pair');
  });

  it('knows every type a client or LXC reads, and each client ftype has its twin', () => {
    for (const f of [
      'lxd.tar.xz',
      'incus.tar.xz',
      'lxd_combined.tar.gz',
      'incus_combined.tar.gz',
      'squashfs',
      'root.tar.xz',
      'disk-kvm.img',
      'squashfs.vcdiff',
      LXC_META_FTYPE,
      LXC_ROOTFS_FTYPE,
    ])
      assert.ok(KNOWN_FTYPES.has(f), f);
    assert.ok(!KNOWN_FTYPES.has('manifest'));
    for (const [a, b] of Object.entries(CLIENT_TWIN)) assert.equal(CLIENT_TWIN[b], a);
    assert.equal(ROOTFS_FTYPES['disk-kvm.img']!.type, 'virtual-machine');
  });
});

describe('name parts (os, release, variant)', () => {
  for (const [value, ok] of [
    ['debian', true],
    ['12', true],
    ['3.20', true],
    ['cloud+x~y_z-1', true],
    ['', false],
    ['.hidden', false],
    ['-x', false],
    ['a/b', false],
    ['a:b', false],
    ['a b', false],
    ['a;b', false],
  ] as const)
    it(`${JSON.stringify(value)} is ${ok ? 'accepted' : 'refused'}`, () => assert.equal(NAME_PART.test(value), ok));
});
