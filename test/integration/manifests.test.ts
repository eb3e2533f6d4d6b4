// What is inside each image and what changed (issue 42): package lists read from real databases
// (this machine's dpkg status, an rpm database made by rpm, an apk database) in root tarballs,
// squashfs and unified tarballs, published as items (manifest, JSON, SPDX, changes), listed in
// catalog.json, shown on the product page and in the feeds, printed by `list --packages` and
// `diff`; hostile databases refused or escaped; a no-change rebuild reads nothing again.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from '../../generator/index.js';
import { compress, metadataTarball, put, squashfs, tarball, metadataYaml, type TarEntry } from '../support/images.js';
import { tempDir } from '../support/tmp.js';
import { runCli } from '../support/cli.js';
import { apkInstalled, machineDpkgStatus, rpmDatabase } from '../support/package-dbs.js';
import { requirements } from '../support/require.js';
import { startUpstream } from '../support/upstream-server.js';

const status = machineDpkgStatus();

/** This machine's status with one package upgraded, one added and one removed. */
function changedStatus(): { text: string; upgraded: string; removed: string } {
  const stanzas = status.split(/\n\n+/).filter((s) => /^Status: install ok installed$/m.test(s));
  const upgraded = /^Package: (.*)$/m.exec(stanzas[0]!)![1]!;
  const removed = /^Package: (.*)$/m.exec(stanzas[1]!)![1]!;
  const bumped = stanzas[0]!.replace(/^Version: (.*)$/m, (_, v: string) => `Version: ${v}+zz1`);
  const added = `Package: staticstreams-added\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0-1\nDescription: added`;
  return { text: [bumped, ...stanzas.slice(2), added].join('\n\n') + '\n', upgraded, removed };
}

const root = (db: TarEntry[], prefix = './'): TarEntry[] => [
  { name: prefix },
  { name: `${prefix}sbin/` },
  { name: `${prefix}sbin/init`, content: '#!/bin/sh\n', mode: 0o755 },
  { name: `${prefix}etc/` },
  { name: `${prefix}etc/os-release`, content: 'ID=debian\n' },
  ...db,
];
const dpkgDb = (text: string, prefix = './'): TarEntry[] => [
  { name: `${prefix}var/` },
  { name: `${prefix}var/lib/` },
  { name: `${prefix}var/lib/dpkg/` },
  { name: `${prefix}var/lib/dpkg/status`, content: text },
];

async function splitImage(images: string, name: string, serial: string, rootEntries: TarEntry[]): Promise<void> {
  await put(
    path.join(images, name, 'lxd.tar.xz'),
    await metadataTarball({
      os: 'Debian',
      release: 'bookworm',
      serial,
      creationDate: Date.parse(`${serial.slice(0, 4)}-${serial.slice(4, 6)}-${serial.slice(6, 8)}T00:00:00Z`) / 1000,
    }),
  );
  await put(path.join(images, name, 'rootfs.tar.xz'), compress(await tarball(rootEntries), 'xz'));
}

const json = async (file: string) => JSON.parse(await readFile(file, 'utf8'));

describe('package manifests (issue 42)', () => {
  it('dpkg in root tarballs: items of every kind, catalog, product page, feed, list --packages and diff; a no-change rebuild reads no database', async (t) => {
    const dir = await tempDir(t);
    const images = path.join(dir, 'images');
    const out = path.join(dir, 'dist');
    await splitImage(images, 'v1', '20261101_0000', root(dpkgDb(status)));
    await build({ images, out });
    const change = changedStatus();
    await splitImage(images, 'v2', '20261102_0000', root(dpkgDb(change.text)));
    const second = await build({ images, out });
    assert.ok(second.placed.linked > 0);

    const index = await json(path.join(out, 'streams/v1/index.json'));
    const products = await json(path.join(out, index.index.images.path));
    const [key, product] = Object.entries(products.products)[0] as [
      string,
      { versions: Record<string, { items: Record<string, { ftype: string; path: string }> }> },
    ];
    const [v1, v2] = Object.keys(product.versions).sort();
    const ftypes = (v: string) => Object.values(product.versions[v!]!.items).map((i) => i.ftype);
    for (const f of ['manifest', 'manifest.json', 'spdx.json']) assert.ok(ftypes(v1!).includes(f) && ftypes(v2!).includes(f), f);
    assert.ok(!ftypes(v1!).includes('changes.json'), 'the first version has nothing to compare with');
    assert.ok(ftypes(v2!).includes('changes.json'));

    // the manifest is Ubuntu's format, every installed package once
    const manifestItem = Object.values(product.versions[v1!]!.items).find((i) => i.ftype === 'manifest')!;
    const lines = (await readFile(path.join(out, manifestItem.path), 'utf8')).trimEnd().split('\n');
    const installed = status.split(/\n\n+/).filter((s) => /^Status: install ok installed$/m.test(s)).length;
    assert.equal(lines.length, installed);
    for (const l of lines) assert.match(l, /^[^\t]+\t[^\t]+$/);

    // changes
    const changesItem = Object.values(product.versions[v2!]!.items).find((i) => i.ftype === 'changes.json')!;
    const changes = await json(path.join(out, changesItem.path));
    assert.deepEqual(
      changes.upgraded.map((u: { name: string }) => u.name),
      [change.upgraded],
    );
    assert.deepEqual(changes.added, [{ name: 'staticstreams-added', version: '1.0-1' }]);
    assert.deepEqual(
      changes.removed.map((r: { name: string }) => r.name),
      [change.removed],
    );

    // SPDX: the image's fingerprint is the subject
    const catalog = await json(path.join(out, 'catalog.json'));
    const newest = catalog.products[0].versions[0];
    assert.ok(newest.manifest.sbom && newest.manifest.packages && newest.manifest.changes);
    const sbom = await json(path.join(out, newest.manifest.sbom));
    assert.equal(sbom.spdxVersion, 'SPDX-2.3');
    assert.equal(sbom.packages[0].checksums[0].checksumValue, newest.images[0].fingerprint);
    assert.equal(sbom.packages.length, installed + 1 - 1 + 1); // the image, and v2's packages (one removed, one added)

    // verify checks them like any other file
    const verify = await runCli(['verify', out], { cwd: dir });
    assert.equal(verify.status, 0, verify.stderr);

    // the product page and the feed
    const slug = (await readFile(path.join(out, 'index.html'), 'utf8')).match(/href="\/products\/([^"]+)\/"/)![1]!;
    const page = await readFile(path.join(out, 'products', slug, 'index.html'), 'utf8');
    assert.ok(page.includes(`Packages in <span class="mono">${v2}</span>: ${installed} (dpkg)`), 'the newest list, counted');
    assert.ok(page.includes(`data-name="staticstreams-added"`));
    assert.ok(page.includes(`+ staticstreams-added 1.0-1`));
    assert.ok(page.includes(`${change.upgraded} `) && page.includes('+zz1'));
    const feed = await readFile(path.join(out, 'products', slug, 'feed.xml'), 'utf8');
    assert.ok(feed.includes(`packages changed since ${v1}:`));
    assert.ok(feed.includes('+ staticstreams-added 1.0-1'));

    // list --packages and diff, by key and by alias, table and JSON
    const listed = await runCli(['list', out, '--packages', `${key}/${v1}`], { cwd: dir });
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${v1}: ${installed} packages \\(dpkg\\)`));
    const listedJson = JSON.parse((await runCli(['list', out, '--packages', 'debian/bookworm', '--json'], { cwd: dir })).stdout);
    assert.equal(listedJson.version, v2);
    assert.ok(listedJson.list.packages.some((p: { name: string }) => p.name === 'staticstreams-added'));
    const diff = await runCli(['diff', out, key, v1!, v2!], { cwd: dir });
    assert.equal(diff.status, 0, diff.stderr);
    assert.match(diff.stdout, /3 packages changed/);
    assert.ok(diff.stdout.includes('+ staticstreams-added 1.0-1'));
    assert.ok(diff.stdout.includes(`− ${change.removed} `));
    const diffJson = JSON.parse((await runCli(['diff', out, key, v2!, v1!, '--json'], { cwd: dir })).stdout);
    assert.equal(diffJson.downgraded[0].name, change.upgraded);
    const missing = await runCli(['diff', out, key, v1!, '20990101_0000'], { cwd: dir });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /has no version 20990101_0000/);

    // a no-change rebuild: nothing hashed, the same tree
    const again = await build({ images, out });
    assert.equal(again.bytesHashed, 0);
    const after = await json(path.join(out, 'catalog.json'));
    assert.deepEqual(after.products[0].versions[0].manifest, newest.manifest);
  });

  it(
    'rpm (a database made by rpm) in a squashfs, and apk in a unified tarball',
    { skip: requirements(['rpm', 'rpmbuild', 'mksquashfs', 'rdsquashfs']) },
    async (t) => {
      const dir = await tempDir(t);
      const images = path.join(dir, 'images');
      const out = path.join(dir, 'dist');
      const db = await rpmDatabase([
        { name: 'openssl', version: '3.0.16', release: '1.fc41', epoch: 1 },
        { name: 'bash', version: '5.2.26', release: '3.fc41' },
      ]);
      await put(path.join(images, 'fedora', 'lxd.tar.xz'), await metadataTarball({ os: 'Fedora', release: '41', serial: '20261101_0000' }));
      await put(
        path.join(images, 'fedora', 'rootfs.squashfs'),
        await squashfs([
          { name: 'sbin/init', content: '#!/bin/sh\n', mode: 0o755 },
          { name: 'usr/lib/sysimage/rpm/rpmdb.sqlite', content: db },
        ]),
      );
      const apk = apkInstalled([
        { name: 'musl', version: '1.2.5-r0' },
        { name: 'busybox', version: '1.36.1-r29' },
      ]);
      await put(
        path.join(images, 'alpine.tar.gz'),
        compress(
          await tarball([
            { name: 'metadata.yaml', content: metadataYaml({ os: 'Alpine', release: '3.20', serial: '20261101_0000' }) },
            ...root([{ name: 'rootfs/lib/apk/db/installed', content: apk }], 'rootfs/'),
          ]),
          'gzip',
        ),
      );
      await build({ images, out });
      const fedora = JSON.parse((await runCli(['list', out, '--packages', 'fedora/41', '--json'], { cwd: dir })).stdout);
      assert.equal(fedora.list.database, 'rpm');
      assert.deepEqual(
        fedora.list.packages.map((p: { name: string; version: string }) => `${p.name} ${p.version}`),
        ['bash 5.2.26-3.fc41', 'openssl 1:3.0.16-1.fc41'],
      );
      const alpine = JSON.parse((await runCli(['list', out, '--packages', 'alpine/3.20', '--json'], { cwd: dir })).stdout);
      assert.equal(alpine.list.database, 'apk');
      assert.deepEqual(
        alpine.list.packages.map((p: { name: string }) => p.name),
        ['busybox', 'musl'],
      );
    },
  );

  it('hostile databases: markup escaped or refused, a symlinked status never followed, the build goes on', async (t) => {
    const dir = await tempDir(t);
    const images = path.join(dir, 'images');
    const out = path.join(dir, 'dist');
    const hostile = [
      'Package: <script>alert(1)</script>\nStatus: install ok installed\nVersion: 1\n',
      'Package: evil\nStatus: install ok installed\nVersion: 1<img src=x onerror=alert(1)>\n',
      'Package: fine\nStatus: install ok installed\nVersion: 2.0\n',
    ].join('\n');
    await splitImage(images, 'a', '20261101_0000', root(dpkgDb(hostile)));
    await put(path.join(images, 'b', 'lxd.tar.xz'), await metadataTarball({ os: 'Debian', release: 'trixie', serial: '20261101_0000' }));
    await put(
      path.join(images, 'b', 'rootfs.tar.xz'),
      compress(await tarball(root([{ name: './var/lib/dpkg/' }, { name: './var/lib/dpkg/status', type: 'symlink', linkname: '/etc/shadow' }])), 'xz'),
    );
    const warnings: string[] = [];
    const result = await build({ images, out, reporter: { phase() {}, progress() {}, warn: (w: string) => warnings.push(w) } });
    assert.ok(result.placed.linked > 0);
    const bookworm = JSON.parse((await runCli(['list', out, '--packages', 'debian/bookworm', '--json'], { cwd: dir })).stdout);
    assert.deepEqual(
      bookworm.list.packages,
      [{ name: 'fine', version: '2.0', architecture: undefined }].map(({ name, version }) => ({ name, version })),
    );
    assert.ok(
      warnings.some((w) => /2 package entries .* left out/.test(w)),
      warnings.join('\n'),
    );
    assert.ok(
      warnings.some((w) => /symbolic link, which is not followed/.test(w)),
      warnings.join('\n'),
    );
    const trixie = await runCli(['list', out, '--packages', 'debian/trixie'], { cwd: dir });
    assert.equal(trixie.status, 2);
    assert.match(trixie.stderr, /no version with a package list/);
    for (const page of ['index.html', ...(await readFile(path.join(out, 'catalog.json'), 'utf8')).match(/"key": "[^"]+"/g)!.map(() => 'index.html')]) {
      const html = await readFile(path.join(out, page), 'utf8');
      assert.ok(!html.includes('<script>alert(1)'));
    }
  });

  it("mirror copies an upstream's manifest items (checked), and makes its own where the upstream has none (built with --no-manifests)", async (t) => {
    const dir = await tempDir(t);
    const images = path.join(dir, 'images');
    const change = changedStatus();
    await splitImage(images, 'v1', '20261101_0000', root(dpkgDb(status)));
    await splitImage(images, 'v2', '20261102_0000', root(dpkgDb(change.text)));
    const withLists = path.join(dir, 'with');
    const without = path.join(dir, 'without');
    await build({ images, out: withLists, site: false });
    const bare = await runCli(['build', '--images', images, '--out', without, '--no-site', '--no-manifests'], { cwd: dir });
    assert.equal(bare.status, 0, bare.stderr);
    assert.ok(!(await readFile(path.join(without, 'catalog.json'), 'utf8')).includes('"manifest"'), '--no-manifests publishes none');
    const items = async (tree: string) => {
      const index = await json(path.join(tree, 'streams/v1/index.json'));
      const products = await json(path.join(tree, index.index.images.path));
      return Object.values(
        products.products as Record<string, { versions: Record<string, { items: Record<string, { ftype: string; sha256: string }> }> }>,
      ).flatMap((p) =>
        Object.entries(p.versions).flatMap(([v, { items }]) =>
          Object.values(items)
            .filter((i) => ['manifest', 'manifest.json', 'spdx.json', 'changes.json'].includes(i.ftype))
            .map((i) => `${v} ${i.ftype} ${i.sha256}`),
        ),
      );
    };
    for (const [upstreamTree, label] of [
      [withLists, 'copied'],
      [without, 'made here'],
    ] as const) {
      const upstream = await startUpstream(upstreamTree);
      t.after(() => upstream.stop());
      const out = path.join(dir, `mirror-${label.replace(' ', '-')}`);
      const r = await runCli(['mirror', upstream.url, '--out', out, '--no-site'], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      // the same bytes as a build makes of the same images: a mirror's lists are the upstream's, or the ones the build would make
      assert.deepEqual((await items(out)).sort(), (await items(withLists)).sort(), label);
      const diff = await runCli(['diff', out, 'debian/bookworm', '20261101_00:00', '20261102_00:00'], { cwd: dir });
      assert.equal(diff.status, 0, diff.stderr);
      assert.ok(diff.stdout.includes('+ staticstreams-added 1.0-1'), label);
      assert.equal((await runCli(['verify', out], { cwd: dir })).status, 0);
    }
  });
});
