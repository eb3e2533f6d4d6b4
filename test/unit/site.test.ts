// The catalogue site's pure helpers: grouping products, slugs, staleness, commands, remote names.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupProducts, isStale, slugPart } from '../../generator/formats/groups.js';
import { groupedFingerprint, launchCommands, remoteAddCommands, shellWord, verifyCommands } from '../../site/src/lib/commands.js';
import { defaultRemoteName } from '../../generator/formats/remote-name.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { basePath, missingPages } from '../../generator/publish/site.js';
import { tempDir } from '../support/tmp.js';
import { put } from '../support/images.js';
import { syntheticCatalog } from '../support/catalog.js';

test('products of one OS/release/variant group into one entry with their architectures', () => {
  const catalog = syntheticCatalog(30);
  const groups = groupProducts(catalog);
  assert.equal(
    groups.reduce((n, g) => n + g.members.length, 0),
    30,
  );
  const first = groups.find((g) => g.members.length === 3)!;
  assert.deepEqual(first.arches, ['amd64', 'arm64', 'riscv64']);
  assert.equal(first.newest.version, '20261120_0000');
  assert.equal(new Set(groups.map((g) => g.slug)).size, groups.length, 'slugs are unique');
  for (const g of groups) assert.match(g.slug, /^[a-z0-9._-]+\/[a-z0-9._-]+\/[a-z0-9._-]+(-\d+)?$/);
});

test('Newest is per architecture when architectures differ; Size is the newest image of each type', () => {
  const catalog = syntheticCatalog(30);
  const group = groupProducts(catalog).find((g) => g.members.length === 3)!;
  // Make one architecture lag a version behind, with a bigger image.
  const lagging = group.members[1]!;
  const older = { ...lagging, versions: lagging.versions.slice(1).map((v) => ({ ...v, images: v.images.map((i) => ({ ...i, size: 10 ** 9 })) })) };
  const [regrouped] = groupProducts({ products: catalog.products.map((p) => (p === lagging ? older : p)) }).filter((g) => g.slug === group.slug);
  const byArch = Object.fromEntries(regrouped!.newestByArch.map((n) => [n.arch, n.version]));
  assert.equal(byArch[lagging.arch], older.versions[0]!.version);
  assert.notEqual(byArch[lagging.arch], regrouped!.newest.version, 'the lagging architecture says its own newest');
  assert.ok(
    regrouped!.sizes.every((s) => s.size !== 10 ** 9),
    "an architecture's older build is not the newest image",
  );
});

test('slugs are URL-safe and stay unique when names only differ in case or punctuation', () => {
  assert.equal(slugPart('Ubuntu Core'), 'ubuntu-core');
  assert.equal(slugPart('../x'), 'x');
  assert.equal(slugPart('<script>'), 'script');
  const catalog = syntheticCatalog(2);
  const a = { ...catalog.products[0]!, os: 'Debian', key: 'Debian:1:amd64:default' };
  const b = { ...catalog.products[0]!, os: 'debian', key: 'debian:1:amd64:default' };
  const slugs = groupProducts({ products: [a, b] }).map((g) => g.slug);
  assert.equal(new Set(slugs).size, 2);
});

test('stale means the newest build is older than the threshold', () => {
  const now = new Date('2026-11-23T00:00:00Z');
  assert.equal(isStale('2026-11-01T00:00:00Z', 30, now), false);
  assert.equal(isStale('2026-10-01T00:00:00Z', 30, now), true);
});

test('commands quote what a shell would split, and VMs get --vm', () => {
  assert.equal(shellWord('busybox/1.36'), 'busybox/1.36');
  assert.equal(shellWord("a b'c"), `'a b'\\''c'`);
  assert.deepEqual(remoteAddCommands('example', 'https://images.example.org'), {
    lxd: 'lxc remote add example https://images.example.org --protocol simplestreams',
    incus: 'incus remote add example https://images.example.org --protocol simplestreams',
  });
  const vm = launchCommands('example', 'debian/12', true);
  assert.equal(vm.lxdLaunch, 'lxc launch example:debian/12 c1 --vm');
  assert.equal(vm.incusLaunch, 'incus launch example:debian/12 c1 --vm');
  assert.equal(vm.lxdCopy, 'lxc image copy example:debian/12 local: --vm');
  assert.equal(launchCommands('example', 'debian/12', false).lxdLaunch, 'lxc launch example:debian/12 c1');
});

test("a signed tree's verification commands: the keyring fetched, the chain checked by gpgv, sstream-query and verify", () => {
  const cmds = verifyCommands('https://images.example.org/lxd/', { keyring: 'signing-key.gpg', index: 'streams/v1/index.sjson' });
  assert.deepEqual(cmds, {
    key: 'curl -fsSLo ./signing-key.gpg https://images.example.org/lxd/signing-key.gpg',
    gpgv: 'curl -fsSLO https://images.example.org/lxd/streams/v1/index.sjson && gpgv --keyring ./signing-key.gpg index.sjson',
    sstream: 'sstream-query --keyring=./signing-key.gpg https://images.example.org/lxd/streams/v1/index.sjson',
    staticstreams: 'staticstreams verify https://images.example.org/lxd/ --keyring ./signing-key.gpg',
  });
  assert.equal(groupedFingerprint('66D4F9D02AAA89D2DF937C60499A864DA9F14F2E'), '66D4 F9D0 2AAA 89D2 DF93 7C60 499A 864D A9F1 4F2E');
});

test('the default remote name comes from the host and never shadows a built-in remote', () => {
  assert.equal(defaultRemoteName('https://images.example.org'), 'example');
  assert.equal(defaultRemoteName('https://lxd.acme.co.uk/sub'), 'acme');
  assert.equal(defaultRemoteName('https://images.org'), 'myimages');
  assert.equal(defaultRemoteName('https://127.0.0.1:8443'), 'myimages');
  assert.equal(defaultRemoteName(undefined), 'myimages');
  assert.equal(defaultRemoteName('https://ubuntu.com'), 'myimages');
});

test('the site base path follows the base URL path', () => {
  assert.equal(basePath(undefined), '/');
  assert.equal(basePath('https://x.org'), '/');
  assert.equal(basePath('https://x.org/lxd/'), '/lxd/');
});

test('a page the site should have and lacks is named (the home page, its feed, each product page and feed)', async (t) => {
  const out = await tempDir(t);
  for (const rel of [
    'index.html',
    'feed.xml',
    'products/debian/12/default/index.html',
    'products/debian/12/default/feed.xml',
    'products/alpine/3.20/default/index.html',
  ])
    await put(path.join(out, rel), 'x');
  await mkdir(path.join(out, 'products/alpine/3.20/default/feed.xml'), { recursive: true }); // a folder is not a page
  assert.deepEqual(missingPages(out, ['debian/12/default', 'alpine/3.20/default', 'ubuntu/24.04/cloud']), [
    'products/alpine/3.20/default/feed.xml',
    'products/ubuntu/24.04/cloud/index.html',
    'products/ubuntu/24.04/cloud/feed.xml',
  ]);
  assert.deepEqual(missingPages(out, ['debian/12/default']), []);
});
