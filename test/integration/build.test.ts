import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
// Internal: the catalog's own schema, to check the written catalog.json against it.
import { catalogSchema } from '../../generator/formats/catalog.js';
import { metadataTarball, put, rootTarball, tarball, metadataYaml } from '../support/images.js';
import { execFileSync } from 'node:child_process';
import { requirements } from '../support/require.js';
import { tempDir } from '../support/tmp.js';
import { hashTree } from '../support/tree-hash.js';
import { build, BuildFailed, verifyTree, listTree } from '../../generator/index.js';

const SAMPLES = path.resolve('images');

async function samples(dir: string): Promise<string> {
  const images = path.join(dir, 'images');
  await cp(SAMPLES, images, { recursive: true });
  return images;
}

async function outputFiles(out: string, sub = ''): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const e of await readdir(path.join(out, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of await outputFiles(out, rel)) files.set(k, v);
    else files.set(rel, await readFile(path.join(out, rel)));
  }
  return files;
}

describe('build', () => {
  it('builds the samples into a tree that verify accepts, with a valid catalog', async (t) => {
    const dir = await tempDir(t);
    const out = path.join(dir, 'dist');
    const result = await build({ images: await samples(dir), out, baseUrl: 'https://images.example.org/' });
    assert.equal(result.plan.products.length, 5);
    assert.equal(result.images, 6);
    const report = await verifyTree(out);
    assert.deepEqual(report.problems, []);
    assert.equal(report.images, 6);
    const catalog = catalogSchema.parse(JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8')));
    assert.equal(catalog.baseUrl, 'https://images.example.org');
    const p = catalog.products.find((x) => x.key === 'busybox:1.36:amd64:default')!;
    assert.deepEqual(p.aliases, ['busybox/1.36/default', 'busybox/1.36']);
    assert.deepEqual(p.versions[0]!.images.map((i) => i.type).sort(), ['container', 'virtual-machine']);
    for (const image of p.versions[0]!.images) {
      assert.equal(
        image.size,
        image.files.reduce((n, f) => n + f.size, 0),
      );
      for (const f of image.files) assert.equal((await stat(path.join(out, f.path))).size, f.size);
    }
    const { rows } = await listTree(out);
    assert.equal(rows.length, 6);
  });

  it('hard-links image files instead of copying them when it can', async (t) => {
    const dir = await tempDir(t);
    const images = await samples(dir);
    const result = await build({ images, out: path.join(dir, 'dist') });
    assert.equal(result.placed.copied, 0);
    assert.ok(result.placed.linked > 0);
    const src = await stat(path.join(images, 'busybox/amd64/rootfs.squashfs'));
    const catalog = JSON.parse(await readFile(path.join(dir, 'dist/catalog.json'), 'utf8'));
    const squash = catalog.products[0].versions[0].images
      .flatMap((i: { files: { ftype: string; path: string }[] }) => i.files)
      .find((f: { ftype: string }) => f.ftype === 'squashfs');
    assert.equal((await stat(path.join(dir, 'dist', squash.path))).ino, src.ino);
  });

  it('is deterministic: the same inputs give byte-identical streams, catalog and page', async (t) => {
    const dir = await tempDir(t);
    const images = await samples(dir);
    await build({ images, out: path.join(dir, 'one') });
    // A second copy of the inputs, with other inode numbers and mtimes.
    const copy = path.join(dir, 'copy');
    await cp(images, copy, { recursive: true });
    await build({ images: copy, out: path.join(dir, 'two') });
    const one = await outputFiles(path.join(dir, 'one'));
    const two = await outputFiles(path.join(dir, 'two'));
    assert.deepEqual([...one.keys()].sort(), [...two.keys()].sort());
    for (const [k, v] of one) assert.ok(v.equals(two.get(k)!), `${k} differs`);
  });

  it('leaves the previous output untouched when the build fails', async (t) => {
    const dir = await tempDir(t);
    const images = await samples(dir);
    const out = path.join(dir, 'dist');
    await build({ images, out });
    const before = await hashTree(out);
    await put(path.join(images, 'bad/lxd.tar.xz'), await metadataTarball({ architecture: 'x86_64', os: 'bad os', release: '1' }));
    await put(path.join(images, 'bad/rootfs.tar.xz'), await rootTarball('x'));
    await put(path.join(images, 'orphan/rootfs.tar.gz'), await rootTarball('y', 'gzip'));
    await assert.rejects(build({ images, out }), (e: unknown) => {
      assert.ok(e instanceof BuildFailed);
      const text = e.problems.map((p) => p.format()).join('\n');
      assert.match(text, /bad\/lxd.tar.xz \+ bad\/rootfs.tar.xz: metadata.yaml: properties.os "bad os" cannot be used/);
      assert.match(text, /orphan\/rootfs.tar.gz: is a root filesystem tarball .* with no metadata tarball next to it/);
      return true;
    });
    assert.equal(await hashTree(out), before);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.dist') && n !== '.dist.cache.json'),
      [],
      'no temporary folder left behind',
    );
  });

  it('works with the output folder nested inside the images folder, and refuses the reverse', async (t) => {
    const dir = await tempDir(t);
    const images = await samples(dir);
    const out = path.join(images, 'dist');
    await build({ images, out });
    const second = await build({ images, out });
    assert.equal(second.images, 6, 'the previous output is not read as input');
    await assert.rejects(build({ images, out: dir }), /holds the images folder/);
  });

  it('fails clearly on an empty images folder', async (t) => {
    const dir = await tempDir(t);
    await mkdir(path.join(dir, 'empty'));
    await writeFile(path.join(dir, 'empty/README.md'), '# nothing here\n');
    await assert.rejects(
      build({ images: path.join(dir, 'empty'), out: path.join(dir, 'dist') }),
      (e: unknown) => e instanceof BuildFailed && /no images found/.test(e.problems[0]!.message),
    );
  });
});

describe('verify', () => {
  async function built(t: Parameters<typeof tempDir>[0]) {
    const dir = await tempDir(t);
    const out = path.join(dir, 'dist');
    const result = await build({ images: await samples(dir), out });
    const productsPath = path.join(out, result.productsPath);
    const products = JSON.parse(await readFile(productsPath, 'utf8'));
    return { out, productsPath, products };
  }
  const errors = async (out: string) =>
    (await verifyTree(out)).problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.where}: ${p.message}`)
      .join('\n');

  it('catches a corrupted file, a missing file and a wrong combined hash', async (t) => {
    const { out, products, productsPath } = await built(t);
    const v = products.products['busybox:1.36:amd64:default'].versions['20261101_12:00'].items;
    const squash = path.join(out, v['root.squashfs'].path);
    const bytes = await readFile(squash);
    bytes.writeUInt8(bytes.readUInt8(100) ^ 0xff, 100);
    await writeFile(squash, bytes, { flag: 'w' });
    assert.match(await errors(out), /rootfs-[0-9a-f]+\.squashfs does not match its sha256/);

    v['lxd.tar.xz'].combined_squashfs_sha256 = '0'.repeat(64);
    v['disk.qcow2'].path = 'images/nowhere.qcow2';
    await writeFile(productsPath, JSON.stringify(products));
    const text = await errors(out);
    assert.match(text, /combined_squashfs_sha256 is 0{64}, but sha256\(/);
    assert.match(text, /file images\/nowhere.qcow2 is missing/);
  });

  it('catches wrong types, bad version keys, unknown arches and duplicate fingerprints', async (t) => {
    const { out, products, productsPath } = await built(t);
    const p = products.products['busybox:1.36:amd64:minimal'];
    p.versions['v1'] = p.versions['20261101_12:00'];
    const item = Object.values(p.versions['20261101_12:00'].items)[0] as Record<string, unknown>;
    item.size = String(item.size);
    products.products['busybox:1.36:amd64:unified'].requirements = { secureboot: false };
    products.products['busybox:1.36:arm64:default'].arch = 'sparc';
    products.products['busybox:1.36:amd64:unified'].aliases = 'busybox/1.36/minimal';
    await writeFile(productsPath, JSON.stringify(products));
    const text = await errors(out);
    assert.match(text, /v1: version key must start with a YYYYMMDD date/);
    assert.match(text, /size must be a whole number/);
    assert.match(text, /requirements must map names to strings/);
    assert.match(text, /arch "sparc" is not an architecture LXD knows/);
    assert.match(text, /fingerprint [0-9a-f]{64} is also used by/);
    assert.match(text, /alias "busybox\/1.36\/minimal" is also claimed by/);
  });

  it('reads trees written by other tools: an Incus-only tree passes with warnings', async (t) => {
    const { out, products, productsPath } = await built(t);
    for (const product of Object.values(products.products) as { versions: Record<string, { items: Record<string, { ftype: string }> }> }[]) {
      for (const version of Object.values(product.versions)) {
        for (const [k, item] of Object.entries(version.items)) if (item.ftype === 'lxd.tar.xz' || item.ftype === 'lxd_combined.tar.gz') delete version.items[k];
      }
    }
    await writeFile(productsPath, JSON.stringify(products));
    const report = await verifyTree(out);
    assert.deepEqual(
      report.problems.filter((p) => p.severity === 'error'),
      [],
    );
    assert.match(report.problems.map((p) => p.message).join('\n'), /no lxd.tar.xz item: LXD cannot see this image/);
  });

  it('fails on a folder that is no tree at all', async (t) => {
    const dir = await tempDir(t);
    assert.match(await errors(dir), /streams\/v1\/index.json: cannot be read: ENOENT/);
  });
});

describe('the page', () => {
  it('shows metadata text as text: a <script> description cannot inject markup', async (t) => {
    const dir = await tempDir(t);
    const images = path.join(dir, 'images');
    const { unifiedTarball } = await import('../support/images.js');
    await put(
      path.join(images, 'x.tar.gz'),
      await unifiedTarball({ os: 'evil', release: '1', variant: 'x', description: '<script>alert(1)</script><img src=x onerror=alert(2)>' }, 'x'),
    );
    await build({ images, out: path.join(dir, 'dist') });
    for (const page of ['index.html', 'products/evil/1/x/index.html']) {
      const html = await readFile(path.join(dir, 'dist', page), 'utf8');
      const markup = html.replace(/="[^"]*"/g, '=""'); // attribute values may hold < safely
      assert.doesNotMatch(markup, /<script>alert|<img src=x/, page);
    }
    const productPage = await readFile(path.join(dir, 'dist/products/evil/1/x/index.html'), 'utf8');
    assert.match(productPage, /&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;img src=x onerror=alert\(2\)&gt;/, 'shown, as text');
    const catalog = JSON.parse(await readFile(path.join(dir, 'dist/catalog.json'), 'utf8'));
    assert.equal(catalog.products[0].versions[0].images[0].description, '<script>alert(1)</script><img src=x onerror=alert(2)>');
  });
});

describe('zstd files of several frames, as `zstd -d` reads them', { skip: requirements(['zstd']) }, () => {
  it('a tarball compressed as two frames builds and verifies on every Node; a wrong checksum or the file cut short is refused', async (t) => {
    const dir = await tempDir(t);
    const tar = await tarball([
      { name: 'metadata.yaml', content: metadataYaml({ os: 'frames', release: '1', serial: '20261101_00:00' }) },
      { name: 'rootfs/' },
      { name: 'rootfs/marker', content: 'two frames\n'.repeat(4000) },
    ]);
    // Cut at a 512-byte boundary, each half its own frame (what pzstd or `cat a.zst b.zst` make).
    const zstd = (part: Buffer) => execFileSync('zstd', ['-q', '-c', '--check'], { input: part });
    const bytes = Buffer.concat([zstd(tar.subarray(0, 4096)), zstd(tar.subarray(4096))]);
    assert.equal(execFileSync('zstd', ['-d', '-c'], { input: bytes }).equals(tar), true, 'zstd -d reads both frames');
    await put(path.join(dir, 'images/frames.tar.zst'), bytes);
    const out = path.join(dir, 'out');
    await build({ images: path.join(dir, 'images'), out, site: false });
    const report = await verifyTree(out);
    assert.deepEqual(
      report.problems.filter((p) => p.severity === 'error'),
      [],
    );
    // A content checksum that does not match (the last byte: the second frame's checksum), as
    // `zstd -d` refuses it: refused on every Node.
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1]! ^= 1;
    await put(path.join(dir, 'flipped/frames.tar.zst'), flipped);
    await assert.rejects(
      build({ images: path.join(dir, 'flipped'), out: path.join(dir, 'flipped-out'), site: false }),
      (e) => e instanceof BuildFailed && /frames\.tar\.zst: .*checksum does not match/.test(e.problems.map((p) => p.format()).join('\n')),
    );
    // Cut inside the second frame: refused, nothing published.
    await put(path.join(dir, 'cut/frames.tar.zst'), bytes.subarray(0, bytes.length - 40));
    await assert.rejects(
      build({ images: path.join(dir, 'cut'), out: path.join(dir, 'cut-out'), site: false }),
      (e) => e instanceof BuildFailed && /frames\.tar\.zst: .*(cut short|ends in the middle)/.test(e.problems.map((p) => p.format()).join('\n')),
    );
  });
});
