// Carrying over a tree another tool made (`build --previous PEER`): one made by the real
// incus-simplestreams, and one in the shape of images.lxd.canonical.com (simplestream-maintainer).
// Every published path, fingerprint, version key and alias stays; the missing client's items are
// added; new images join the same product; retention and prune work on adopted versions; what
// cannot be carried over is named by product, version and field, all at once, publishing nothing.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
// Internal: the item type of the wire format, to describe a peer tool's tree (not in the library API).
import type { StreamItem } from '../../generator/simplestreams/schema.js';
import { busyboxRootfs, metadataTarball, put, qcow2Bytes, squashfs } from '../support/images.js';
import { incusSimplestreamsTree, maintainerTree } from '../support/peer-trees.js';
import { requirements } from '../support/require.js';
import { tempDir } from '../support/tmp.js';
import { hashTree } from '../support/tree-hash.js';
import { build, verifyTree } from '../../generator/index.js';
import { productsOf as readProducts } from '../support/tree.js';

const BIN = path.resolve('bin/staticstreams.js');

/** An item as the clients read it (the format module's own type). */
type Item = StreamItem;
interface Product {
  aliases?: string;
  versions: Record<string, { items: Record<string, Item> }>;
}

/** The products of the tree's products file. */
const productsOf = (tree: string) => readProducts(tree).products as Record<string, Product>;

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every published item of `before` is in `after` unchanged (key, ftype, path, hashes, size), its file byte-identical. */
function assertCarried(before: Record<string, Product>, afterTree: string, productKey: (k: string) => string = (k) => k): void {
  const after = productsOf(afterTree);
  for (const [pkey, product] of Object.entries(before)) {
    const carried = after[productKey(pkey)];
    assert.ok(carried, `product ${pkey} is still published`);
    for (const alias of (product.aliases ?? '').split(',').filter(Boolean)) assert.ok(carried.aliases!.split(',').includes(alias), `alias ${alias} is kept`);
    for (const [vkey, version] of Object.entries(product.versions)) {
      assert.ok(carried.versions[vkey], `version ${vkey} keeps its key`);
      for (const [ikey, item] of Object.entries(version.items)) {
        assert.deepEqual(carried.versions[vkey]!.items[ikey], item, `${pkey} ${vkey} ${ikey} is unchanged`);
        assert.equal(sha(path.join(afterTree, item.path)), item.sha256, `${item.path} is published at the same path`);
      }
    }
  }
}

/** ftype → fingerprint fields, per client, of a version: which images each client sees. */
function seenBy(version: { items: Record<string, Item> }, client: 'lxd' | 'incus'): string[] {
  const out: string[] = [];
  for (const item of Object.values(version.items)) {
    if (item.ftype === `${client}.tar.xz`)
      for (const [k, v] of Object.entries(item)) if (k.startsWith('combined_') && k.endsWith('_sha256') && k !== 'combined_sha256') out.push(v as string);
    if (item.ftype === `${client}_combined.tar.gz`) out.push(item.sha256);
  }
  return [...new Set(out)].sort();
}

async function splitImage(dir: string, name: string, meta: Parameters<typeof metadataTarball>[0], opts: { vm?: boolean } = {}): Promise<[string, string]> {
  const m = path.join(dir, `${name}.tar.xz`);
  await put(m, await metadataTarball(meta));
  const r = path.join(dir, opts.vm ? `${name}.qcow2` : `${name}.squashfs`);
  await put(r, opts.vm ? await qcow2Bytes(8) : await squashfs(await busyboxRootfs(name)));
  return [m, r];
}

const debian = (day: number, extra: Record<string, string> = {}) => ({
  os: 'Debian',
  release: 'bookworm',
  variant: 'default',
  serial: `202611${String(day).padStart(2, '0')}_0000`,
  creationDate: Date.UTC(2026, 10, day, 6) / 1000,
  extra: { architecture: 'amd64', ...extra },
});

describe('carrying over a tree made by incus-simplestreams', { skip: requirements(['incus-simplestreams', 'mksquashfs']) }, () => {
  it('keeps every path, fingerprint, version key and alias, lets LXD see every image, and adds new versions to the same product', async (t) => {
    const dir = await tempDir(t);
    const peer = path.join(dir, 'peer');
    incusSimplestreamsTree(peer, [
      await splitImage(path.join(dir, 'in'), 'v1', debian(1)),
      await splitImage(path.join(dir, 'in'), 'vm', { ...debian(2), description: 'vm' }, { vm: true }),
      await splitImage(path.join(dir, 'in'), 'v2', debian(3)),
    ]);
    const before = productsOf(peer);
    assert.deepEqual(Object.keys(before), ['Debian:bookworm:default:amd64'], 'the real tool keys products os:release:variant:arch');
    const peerVersions = Object.keys(before['Debian:bookworm:default:amd64']!.versions).sort();
    assert.ok(
      peerVersions.every((k) => /^\d{12}$/.test(k)),
      `the real tool writes YYYYMMDDhhmm version keys (${peerVersions})`,
    );
    assert.equal(peerVersions.length, 3);
    for (const v of Object.values(before['Debian:bookworm:default:amd64']!.versions)) assert.deepEqual(seenBy(v, 'lxd'), [], 'LXD sees nothing in it');

    const images = path.join(dir, 'new');
    await splitImage(images, 'lxd', debian(10));
    const out = path.join(dir, 'out');
    const result = await build({ images, previous: peer, out, site: false, now: new Date('2026-11-10T12:00:00Z') });
    // In the product's own shape of version keys (incus-simplestreams': YYYYMMDDhhmm), never mixed.
    assert.deepEqual(result.lifecycle.added, ['Debian:bookworm:default:amd64 202611100000'], 'the new version joins the published product');

    assertCarried(before, out);
    const after = productsOf(out);
    assert.deepEqual(Object.keys(after), ['Debian:bookworm:default:amd64'], 'no second product with the same aliases');
    assert.deepEqual(Object.keys(after['Debian:bookworm:default:amd64']!.versions).sort(), [...peerVersions, '202611100000'].sort());
    for (const [vkey, v] of Object.entries(after['Debian:bookworm:default:amd64']!.versions)) {
      assert.deepEqual(seenBy(v, 'lxd'), seenBy(v, 'incus'), `${vkey}: LXD and Incus see the same images`);
      assert.ok(seenBy(v, 'lxd').length > 0, `${vkey}: LXD sees its images`);
    }
    const report = await verifyTree(out);
    assert.deepEqual(
      report.problems.filter((p) => p.severity === 'error'),
      [],
    );
    assert.deepEqual(
      report.problems.filter((p) => /cannot see/.test(p.message)),
      [],
      'no image is invisible to a client',
    );
    assert.ok(existsSync(path.join(out, 'streams/v1/images.json')), 'the peer products file stays for the grace period');

    // Retention works on adopted versions: keep the newest two, then prune after the grace period.
    const next = path.join(dir, 'next');
    await build({ previous: out, out: next, site: false, retain: 2, grace: '2h', now: new Date('2026-11-11T00:00:00Z') });
    assert.deepEqual(Object.keys(productsOf(next)['Debian:bookworm:default:amd64']!.versions).sort(), [peerVersions[2]!, '202611100000']);
    const dropped = Object.values(before['Debian:bookworm:default:amd64']!.versions[peerVersions[0]!]!.items).map((i) => i.path);
    for (const p of dropped) assert.ok(existsSync(path.join(next, p)), `${p} stays for the grace period`);
    const pruned = spawnSync(process.execPath, [BIN, 'prune', next, '--retain', '2', '--grace', '2h', '--now', '2026-11-11T03:00:00Z', '--no-site'], {
      encoding: 'utf8',
    });
    assert.equal(pruned.status, 0, pruned.stderr);
    for (const p of dropped) assert.ok(!existsSync(path.join(next, p)), `${p} is gone after the grace period`);
  });
});

describe('carrying over a tree in the shape of images.lxd.canonical.com (simplestream-maintainer)', { skip: requirements(['xdelta3', 'mksquashfs']) }, () => {
  it('keeps paths, version keys, deltas and aliases, lets Incus see every image, and publishes new versions next to them', async (t) => {
    const dir = await tempDir(t);
    const peer = path.join(dir, 'peer');
    const shared = await busyboxRootfs('shared');
    const version = async (key: string, day: number) => ({
      key,
      meta: await metadataTarball({ os: 'ubuntu', release: 'noble', variant: 'cloud', serial: key, creationDate: Date.UTC(2026, 10, day) / 1000 }),
      squashfs: await squashfs([...shared, { name: 'marker', content: key }]),
      qcow2: await qcow2Bytes(8),
    });
    maintainerTree(peer, { os: 'ubuntu', release: 'noble', arch: 'amd64', variant: 'cloud', aliases: 'ubuntu/noble/cloud,ubuntu/24.04/cloud' }, [
      await version('20261101_0000', 1),
      await version('20261102_0000', 2),
    ]);
    const before = productsOf(peer);
    const key = 'ubuntu:noble:amd64:cloud';
    for (const v of Object.values(before[key]!.versions)) assert.deepEqual(seenBy(v, 'incus'), [], 'Incus sees nothing in it');
    assert.equal(seenBy(before[key]!.versions['20261102_0000']!, 'lxd').length, 2, 'one lxd.tar.xz item, a container and a VM');

    const images = path.join(dir, 'new');
    await put(path.join(images, 'lxd.tar.xz'), await metadataTarball({ os: 'ubuntu', release: 'noble', variant: 'cloud', serial: '20261103_0000' }));
    await put(path.join(images, 'rootfs.squashfs'), await squashfs([...shared, { name: 'marker', content: 'new' }]));
    const out = path.join(dir, 'out');
    await build({ images, previous: peer, out, site: false, deltas: true });
    assertCarried(before, out);
    const after = productsOf(out)[key]!;
    assert.equal(after.aliases, 'ubuntu/noble/cloud,ubuntu/24.04/cloud', 'the published aliases, unchanged (ours are among them)');
    for (const [vkey, v] of Object.entries(after.versions)) assert.deepEqual(seenBy(v, 'incus'), seenBy(v, 'lxd'), `${vkey}: Incus sees what LXD sees`);
    assert.equal(after.versions['20261102_0000']!.items['20261101_0000.vcdiff']!.delta_base, '20261101_0000', 'the published delta stays');
    assert.ok(
      Object.values(after.versions['20261103_0000']!.items).some((i) => i.ftype === 'squashfs.vcdiff' && i.delta_base === '20261102_0000'),
      'a delta from the adopted version to the new one',
    );
    const report = await verifyTree(out);
    assert.deepEqual(
      report.problems.filter((p) => p.severity === 'error'),
      [],
    );
  });
});

describe('a peer tree that cannot be carried over', () => {
  it('names every problem by product, version and field, exits 1 and publishes nothing', async (t) => {
    const dir = await tempDir(t);
    const peer = path.join(dir, 'peer');
    const item = { ftype: 'incus.tar.xz', path: 'images/a.incus.tar.xz', sha256: 'a'.repeat(64), size: 1, combined_squashfs_sha256: 'b'.repeat(64) };
    writeFileSync(
      path.join(await mkdirp(peer, 'streams/v1'), 'index.json'),
      JSON.stringify({
        format: 'index:1.0',
        index: { images: { datatype: 'image-downloads', path: 'streams/v1/images.json', format: 'products:1.0', products: ['a', 'b'] } },
      }),
    );
    writeFileSync(
      path.join(peer, 'streams/v1/images.json'),
      JSON.stringify({
        content_id: 'images',
        datatype: 'image-downloads',
        format: 'products:1.0',
        products: {
          a: { arch: 'amd64', release: '3.20', versions: { '202611010000': { items: { 'incus.tar.xz': { ...item, sha256: 'NOT-A-HASH' } } } } },
          b: { arch: 'amd64', os: 'alpine', release: '3.21', variant: 'default', versions: { v1: { items: { 'incus.tar.xz': item } } } },
        },
      }),
    );
    const out = path.join(dir, 'out');
    await put(path.join(dir, 'images/.keep'), '');
    const before = await hashTree(dir);
    const r = spawnSync(process.execPath, [BIN, 'build', '--previous', peer, '--images', path.join(dir, 'images'), '--out', out, '--no-site'], {
      encoding: 'utf8',
      cwd: dir,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /images\.json: product a, field os: os is missing/);
    assert.match(r.stderr, /images\.json: product a, version 202611010000, item incus\.tar\.xz, field sha256: must be 64 lowercase hex digits/);
    assert.match(r.stderr, /images\.json: product b, version v1: is not a version key clients accept/);
    assert.match(r.stderr, /fix: correct it in streams\/v1\/images\.json/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(await hashTree(dir), before, 'nothing written');
  });
});

describe('a tree incus-simplestreams got wrong', { skip: requirements(['incus-simplestreams', 'mksquashfs']) }, () => {
  it("is refused: a VM added to a version that holds a container is listed with the container's metadata file, so no client can use it", async (t) => {
    const dir = await tempDir(t);
    const peer = path.join(dir, 'peer');
    // Same creation date → same version key: the real tool (6.0.4) merges the two images into one version.
    incusSimplestreamsTree(peer, [
      await splitImage(path.join(dir, 'in'), 'ct', debian(1)),
      await splitImage(path.join(dir, 'in'), 'vm', { ...debian(1), description: 'vm' }, { vm: true }),
    ]);
    const before = await hashTree(dir);
    const r = spawnSync(process.execPath, [BIN, 'build', '--previous', peer, '--images', path.join(dir, 'in'), '--out', path.join(dir, 'out'), '--no-site'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /Debian:bookworm:default:amd64 \d{12} incus\.tar\.xz: combined_disk-kvm-img_sha256 is [0-9a-f]{64}, but sha256\(/);
    assert.match(r.stderr, /fix: clients cannot use this image either/);
    assert.deepEqual(await hashTree(dir), before, 'nothing written');
  });
});

async function mkdirp(root: string, rel: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.join(root, rel), { recursive: true });
  return path.join(root, rel);
}
