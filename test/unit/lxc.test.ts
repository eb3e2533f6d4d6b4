// LXC's files, in units: the root tarball stream (blocks copied as they are, a unified image's
// rootfs/ renamed wherever a name is held, appended files, cut-short input refused — read back by
// GNU tar), which versions get LXC files and from which image, how a rebuild keeps them, and the
// index and meta files rendered.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, linkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lxcRootfsTar, TarCutShort } from '../../generator/publish/lxc-tar.js';
import { carryLxc, lxcImages, planLxc } from '../../generator/plan/lxc.js';
import { mergeWithPrevious } from '../../generator/plan/merge.js';
import { planProducts, type PlannedItem, type PlannedProduct, type PlannedVersion } from '../../generator/plan/products.js';
import { lxcIndexLines, lxcMetaFiles, lxcTemplated, renderLxcIndex } from '../../generator/render/lxc.js';
import { DEFAULT_CONFIG } from '../../generator/config/config.js';
import { hashedImage, hex, plannedFile } from '../support/builders.js';

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of gen) parts.push(b);
  return Buffer.concat(parts);
}

async function* chunked(buf: Buffer, size = 777): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** `tar -tv` of a tar held in memory, as GNU tar lists it (names, link targets). */
const listing = (tar: Buffer) => execFileSync('tar', ['-tv', '--numeric-owner', '-f', '-'], { input: tar, encoding: 'utf8' });
const names = (tar: Buffer) => execFileSync('tar', ['-t', '-f', '-'], { input: tar, encoding: 'utf8' }).trim().split('\n');

describe('the LXC root tarball stream', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ss-lxc-tar-'));
  const long = `rootfs/usr/share/${'a'.repeat(90)}/${'b'.repeat(90)}/file-with-a-long-name.txt`;
  mkdirSync(path.join(work, path.dirname(long)), { recursive: true });
  mkdirSync(path.join(work, 'templates'));
  writeFileSync(path.join(work, 'metadata.yaml'), 'architecture: x86_64\n');
  writeFileSync(path.join(work, 'templates/hostname.tpl'), 'x\n');
  writeFileSync(path.join(work, long), 'long\n');
  mkdirSync(path.join(work, 'rootfs/etc'), { recursive: true });
  writeFileSync(path.join(work, 'rootfs/etc/hostname'), 'image\n');
  linkSync(path.join(work, long), path.join(work, 'rootfs/etc/hard'));
  const unified = (format: string) =>
    execFileSync('tar', [
      '-c',
      `--format=${format}`,
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '-C',
      work,
      'metadata.yaml',
      'templates',
      'rootfs',
    ]);
  const appended = [{ path: 'etc/hostname', text: 'LXC_NAME\n', mode: 0o644, mtime: 1_700_000_000 }];

  // (ustar cannot hold the long name: GNU tar's two formats that can)
  for (const format of ['posix', 'gnu'] as const) {
    it(`copies only rootfs/ of a unified image (${format} format), renamed ./…, hard links too`, async () => {
      const out = await collect(lxcRootfsTar(chunked(unified(format)), { unified: true, append: appended }));
      assert.equal(out.length % 10240, 0, 'padded to a tar record');
      const list = names(out);
      assert.ok(!list.some((n) => /metadata\.yaml|templates/.test(n)), list.join('\n'));
      assert.ok(list.includes(`./${long.slice('rootfs/'.length)}`), list.join('\n'));
      assert.ok(list.includes('./etc/hostname'));
      assert.equal(list.at(-1), './etc/hostname', 'the appended file comes last');
      // GNU tar stored the second name of the file as a hard link to the first: renamed too
      assert.match(listing(out), /^h.* \.\/usr\/share\/a+\/b+\/file-with-a-long-name\.txt link to \.\/etc\/hard$/m);
      // GNU tar extracts it, the appended /etc/hostname replacing the image's.
      const into = path.join(work, `x-${format}`);
      mkdirSync(into);
      execFileSync('tar', ['-x', '-f', '-', '-C', into], { input: out });
      assert.equal(readFileSync(path.join(into, 'etc/hostname'), 'utf8'), 'LXC_NAME\n');
      assert.equal(readFileSync(path.join(into, 'etc/hard'), 'utf8'), 'long\n');
    });
  }

  it('copies a root tarball block for block up to its end-of-archive marker, then appends', async () => {
    const root = execFileSync('tar', ['-c', '--format=posix', '--sort=name', '--mtime=@0', '-C', path.join(work, 'rootfs'), '.']);
    const trailing = Buffer.concat([root, Buffer.from('junk after the archive')]);
    const out = await collect(lxcRootfsTar(chunked(trailing, 512 * 3 + 5), { unified: false, append: appended }));
    const archive = root.subarray(0, root.length - (root.length - findEnd(root)));
    assert.ok(out.subarray(0, archive.length).equals(archive), 'every byte before the marker unchanged');
    assert.ok(!out.includes(Buffer.from('junk after')), 'what follows the marker is dropped');
    assert.equal(names(out).at(-1), './etc/hostname');
  });

  it('refuses a tar stream cut short', async () => {
    const root = execFileSync('tar', ['-c', '-C', path.join(work, 'rootfs'), '.']);
    await assert.rejects(collect(lxcRootfsTar(chunked(root.subarray(0, 700)), { unified: false, append: [] })), TarCutShort);
    await assert.rejects(collect(lxcRootfsTar(chunked(unified('gnu').subarray(0, 3000)), { unified: true, append: [] })), TarCutShort);
  });

  it('cleans up', () => rmSync(work, { recursive: true, force: true }));
});

/** Where a tar's end-of-archive marker starts (the first of two zero header blocks). */
function findEnd(tar: Buffer): number {
  let i = 0;
  while (i + 1024 <= tar.length) {
    const h = tar.subarray(i, i + 512);
    if (h.every((b) => b === 0)) return i;
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
    i += 512 + Math.ceil(size / 512) * 512;
  }
  return tar.length;
}

const plan = (...images: Parameters<typeof hashedImage>[]) =>
  planProducts(
    images.map((a) => hashedImage(...a)),
    DEFAULT_CONFIG,
  ).plan.products;

describe('which versions get LXC files', () => {
  it('takes the squashfs image of a version before a unified one or a root tarball, and only containers', () => {
    const products = plan(
      ['sq', { variant: 'a' }],
      ['un', { variant: 'a', rootfs: 'unified' }],
      ['tb', { variant: 'b', rootfs: 'root-tarball' }],
      ['vm', { variant: 'c', rootfs: 'qcow2' }],
    );
    const jobs = planLxc(products);
    assert.deepEqual(
      jobs.map((j) => [j.product.variant, j.source.kind, j.rootKey, j.rootFtype]),
      [
        ['a', 'squashfs', 'root.tar.xz', 'root.tar.xz'],
        // the root.tar.xz key holds the input root tarball: LXC's goes under an ftype clients skip
        ['b', 'root-tarball', 'lxc.rootfs.tar.xz', 'lxc.rootfs.tar.xz'],
      ],
    );
    assert.deepEqual(jobs[0]!.metaKeys.sort(), ['incus.tar.xz', 'lxd.tar.xz']);
    const unifiedOnly = planLxc(plan(['un', { rootfs: 'unified' }]));
    // OpenNebula finds it by the key; LXD and Incus skip the ftype (no metadata item to pair with)
    assert.deepEqual(
      unifiedOnly.map((j) => [j.source.kind, j.rootKey, j.rootFtype, j.metaKeys]),
      [['unified', 'root.tar.xz', 'lxc.rootfs.tar.xz', []]],
    );
  });

  it('leaves a version that has them alone, and a rebuild with the same images keeps them', () => {
    const fresh = plan(['sq', {}]);
    const withLxc = addLxc(fresh[0]!.versions[0]!);
    const products: PlannedProduct[] = [{ ...fresh[0]!, versions: [withLxc] }];
    assert.deepEqual(planLxc(products), []);
    assert.equal(lxcImages(withLxc).size, 1);
    const merged = mergeWithPrevious(products, fresh, { replace: false });
    assert.deepEqual(merged.problems, []);
    assert.deepEqual(merged.unchanged, [`${fresh[0]!.key} ${withLxc.key}`]);
    const kept = merged.products[0]!.versions[0]!;
    assert.deepEqual(
      kept.items.map((i) => i.key),
      withLxc.items.map((i) => i.key).sort(),
    );
    assert.equal(kept.images.length, 2);
    assert.equal(kept.items.find((i) => i.key === 'lxd.tar.xz')!.combined.combined_rootxz_sha256, hex(99));
    assert.equal(carryLxc(withLxc, withLxc), withLxc, 'a version that has its LXC files is kept as it is');
  });
});

/** The version with LXC files listed as a build with lxc: true makes them. */
function addLxc(v: PlannedVersion): PlannedVersion {
  const dir = `${v.items[0]!.file.path.slice(0, v.items[0]!.file.path.lastIndexOf('/'))}/lxc-0123456789abcdef`;
  const file = (name: string, n: number) => plannedFile(`${dir}/${name}`, hex(n), n);
  const root = file('rootfs.tar.xz', 2);
  const items: PlannedItem[] = [
    ...v.items.map((i) =>
      i.ftype.endsWith('.tar.xz') && i.key !== 'root.tar.xz'
        ? { ...i, combined: { ...i.combined, combined_rootxz_sha256: hex(99), combined_sha256: hex(99) } }
        : i,
    ),
    { key: 'lxc.meta.tar.xz', ftype: 'lxc.meta.tar.xz', file: file('meta.tar.xz', 1), combined: {} },
    { key: 'root.tar.xz', ftype: 'root.tar.xz', file: root, combined: {} },
  ];
  const image = { ...v.images[0]!, fingerprint: hex(99), files: [v.images[0]!.files[0]!, { ftype: 'root.tar.xz', file: root }] };
  return { ...v, items, images: [...v.images, image] };
}

describe('the LXC index and meta files', () => {
  it('lists each product once, at its newest version with LXC files, sorted, with Debian architecture names', () => {
    const [a] = plan(
      ['a1', { os: 'Debian', release: 'bookworm', serial: '20260101_00:00' }],
      ['a2', { os: 'Debian', release: 'bookworm', serial: '20260102_00:00' }],
    );
    const [b] = plan(['b1', { os: 'Alpine', release: '3.20', arch: 'aarch64', serial: '20260101_00:00' }]);
    // a's newest version has no LXC files: its older one is listed
    const products = [b!, { ...a!, versions: [addLxc(a!.versions[0]!), a!.versions[1]!] }].map((p) =>
      p === b ? { ...p, versions: p.versions.map(addLxc) } : p,
    );
    assert.deepEqual(
      lxcIndexLines(products).map((l) => [l.dist, l.release, l.arch, l.variant, l.build]),
      [
        ['alpine', '3.20', 'arm64', 'default', '20260101_00:00'],
        ['debian', 'bookworm', 'amd64', 'default', '20260101_00:00'],
      ],
    );
    const text = renderLxcIndex(products);
    assert.match(text, /^alpine;3\.20;arm64;default;20260101_00:00;\/images\/.+\/lxc-0123456789abcdef\/\n/);
    assert.equal(renderLxcIndex(plan(['x', {}])), '', 'nothing without LXC files');
    const hostile = { ...products[0]!, release: 'a;b' };
    assert.deepEqual(lxcIndexLines([hostile]), [], 'a field that would break the line is left out');
  });

  it('writes config, config-user, create-message, excludes-user; expiry and templates when the metadata has them', () => {
    const files = Object.fromEntries(
      lxcMetaFiles({
        os: 'debian',
        release: '12',
        variant: 'default',
        canonicalArch: 'aarch64',
        description: 'Debian 12',
        expiry: 1800000000,
        templated: ['etc/hostname'],
      }),
    );
    assert.deepEqual(Object.keys(files), ['config', 'config-user', 'create-message', 'excludes-user', 'expiry', 'templates']);
    assert.equal(files.config, 'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.arch = aarch64\n');
    assert.match(files['config-user']!, /userns\.conf/);
    assert.equal(files.expiry, '1800000000\n');
    assert.equal(files.templates, '/etc/hostname\n');
    assert.match(files['create-message']!, /Debian 12/);
    const plain = Object.fromEntries(lxcMetaFiles({ os: 'x', release: '1', variant: 'v', canonicalArch: 'x86_64', templated: [] }));
    assert.equal(plain.expiry, undefined);
    assert.equal(plain.templates, undefined);
    assert.deepEqual(lxcTemplated({ '/etc/hostname': {}, '/etc/hosts': {}, '/etc/motd': {} }), ['etc/hostname', 'etc/hosts']);
    assert.deepEqual(lxcTemplated(undefined), []);
  });
});
