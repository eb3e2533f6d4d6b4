// A user's first day, second pass (issue 45): what a newcomer meets following the README, each a
// test that failed before its fix — an image that cannot start is warned about, the servers the
// system trusts are trusted, doctor and list say what is wrong with credentials, serve gives any
// tree the headers its host would, a version republished with other bytes is warned about, the
// counts and words say what they mean, and metadata.yaml is read as LXD and Incus read it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { runCli } from '../support/cli.js';
import { requirements } from '../support/require.js';
import { ensureTestTls } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { busyboxRootfs, compress, metadataYaml, put, tarball, unifiedTarball } from '../support/images.js';
import { startUpstream } from '../support/upstream-server.js';

const IMAGES = path.resolve('images');

describe('45.1 an image that cannot start', () => {
  it('a container root filesystem without /sbin/init is warned about; one with busybox as init is not', async (t) => {
    const dir = await tempDir(t);
    await put(path.join(dir, 'images/no-init.tar.gz'), await unifiedTarball({ os: 'noinit', release: '1', serial: '20261101_00:00' }, 'x'));
    const r = await runCli(['build', '--no-site', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /no-init\.tar\.gz: its root filesystem has no \/sbin\/init: .*Failed to exec/);
    // Many such images: one line, not one per image.
    for (let i = 0; i < 5; i++)
      await put(path.join(dir, `many/n${i}.tar.gz`), await unifiedTarball({ os: `noinit${i}`, release: '1', serial: '20261101_00:00' }, 'x'));
    const many = await runCli(['build', '--images', 'many', '--no-site', '--out', 'out-many'], { cwd: dir });
    assert.equal(many.status, 0, many.stderr);
    assert.equal(many.stderr.match(/sbin\/init/g)?.length, 3, many.stderr); // the message names it three times
    assert.match(many.stderr, /5 container images have no \/sbin\/init \(n0\.tar\.gz, n1\.tar\.gz, n2\.tar\.gz and 2 more\)/);
    const good = await tempDir(t);
    const entries = await busyboxRootfs('ok');
    await put(
      path.join(good, 'images/init.tar.gz'),
      compress(
        await tarball([
          { name: 'metadata.yaml', content: metadataYaml({ os: 'init', release: '1', serial: '20261101_00:00' }) },
          { name: 'rootfs/' },
          ...entries.map((e) => ({ ...e, name: `rootfs/${e.name}` })),
        ]),
        'gzip',
      ),
    );
    const ok = await runCli(['build', '--no-site', '--out', 'out'], { cwd: good });
    assert.equal(ok.status, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /sbin\/init/);
  });
});

describe('45.3 / 45.5 servers, certificates and credentials', { skip: requirements(['openssl', 'update-ca-certificates'], { root: true }) }, () => {
  it('verify and list trust a certificate the system store trusts (as LXD and Incus do), without NODE_EXTRA_CA_CERTS', async (t) => {
    const tls = ensureTestTls();
    const dir = await tempDir(t);
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', 'out', '--no-site'], { cwd: dir })).status, 0);
    const { startPreview } = await import('../../generator/index.js');
    const server = await startPreview({ dir: path.join(dir, 'out'), port: 0, tls: { cert: tls.cert, key: tls.key } });
    t.after(() => server.close());
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: undefined };
    const v = await runCli(['verify', server.url, '--quick'], { cwd: dir, env });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const l = await runCli(['list', server.url], { cwd: dir, env });
    assert.equal(l.status, 0, l.stderr);
  });

  it('a private server: doctor says the credentials were refused; list without them says how to give them; serve sends the headers nginx would', async (t) => {
    const tls = ensureTestTls();
    const dir = await tempDir(t);
    const hash = bcrypt.hashSync('right', 5).replace(/^\$2b\$/, '$2y$');
    writeFileSync(path.join(dir, 'users.htpasswd'), `alice:${hash}\n`);
    writeFileSync(path.join(dir, 'staticstreams.yaml'), 'targets: [nginx]\nauth:\n  htpasswd: users.htpasswd\n');
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', 'out', '--no-site'], { cwd: dir })).status, 0);
    const { startPreview } = await import('../../generator/index.js');
    const { parseHtpasswd } = await import('../../generator/config/htpasswd.js');
    const server = await startPreview({
      dir: path.join(dir, 'out'),
      port: 0,
      tls: { cert: tls.cert, key: tls.key },
      users: parseHtpasswd(`alice:${hash}\n`, 'users'),
    });
    t.after(() => server.close());
    const port = new URL(server.url).port;
    const wrong = await runCli(['doctor', `https://alice:wrong@127.0.0.1:${port}`], { cwd: dir });
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /refused the user and password/);
    assert.doesNotMatch(wrong.stdout, /publish the output folder at the root/);
    const right = await runCli(['doctor', `https://alice:right@127.0.0.1:${port}`], { cwd: dir });
    assert.doesNotMatch(right.stdout, /\/\/streams\/v1\/index\.json answers 401/, right.stdout);
    const list = await runCli(['list', `https://127.0.0.1:${port}`], { cwd: dir });
    assert.equal(list.status, 1);
    assert.match(list.stderr, /HTTP 401: the server asks for a user and password/);
    assert.match(list.stderr, /USER:PASSWORD/);
    assert.doesNotMatch(list.stderr, /--previous/);
    // serve: the cache and CORS policy nginx's rules give a tree built for nginx
    const index = await fetch(`${server.url}/streams/v1/index.json`, { headers: { Authorization: `Basic ${Buffer.from('alice:right').toString('base64')}` } });
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('access-control-allow-origin'), '*');
    assert.equal(index.headers.get('cache-control'), 'private, max-age=60, must-revalidate');
  });

  it('doctor says nothing about NODE_EXTRA_CA_CERTS when it names the system bundle itself', async (t) => {
    const dir = await tempDir(t);
    const r = await runCli(['doctor', 'https://127.0.0.1:9'], { cwd: dir, env: { ...process.env, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' } });
    assert.doesNotMatch(r.stderr, /NODE_EXTRA_CA_CERTS/);
  });
});

describe('45.6 / 45.7 / 45.10 words and counts', () => {
  it('a version rebuilt with other bytes under the same serial is warned about', async (t) => {
    const dir = await tempDir(t);
    await put(path.join(dir, 'images/a.tar.gz'), await unifiedTarball({ os: 'same', release: '1', serial: '20261101_00:00' }, 'one'));
    assert.equal((await runCli(['build', '--no-site', '--out', 'out'], { cwd: dir })).status, 0);
    await put(path.join(dir, 'images/a.tar.gz'), await unifiedTarball({ os: 'same', release: '1', serial: '20261101_00:00' }, 'two'));
    const r = await runCli(['build', '--no-site', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /same:1:amd64:default 20261101_00:00 was published in out with other images/);
  });

  it('says what products count; a --previous build counts every image; http and ?x base URLs', async (t) => {
    const dir = await tempDir(t);
    const r = await runCli(['build', '--images', IMAGES, '--no-site', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    const catalog = JSON.parse(readFileSync(path.join(dir, 'out/catalog.json'), 'utf8')) as { products: { os: string; release: string; variant: string }[] };
    const pages = new Set(catalog.products.map((p) => `${p.os} ${p.release} ${p.variant}`)).size;
    assert.match(
      r.stdout,
      new RegExp(`: ${catalog.products.length} products \\(one per architecture; ${pages} catalogue pages, one per os/release/variant\\)`),
    );
    await put(path.join(dir, 'new/n.tar.gz'), await unifiedTarball({ os: 'new', release: '1', serial: '20261102_00:00' }, 'n'));
    const p = await runCli(['build', '--images', 'new', '--previous', 'out', '--no-site', '--out', 'out2'], { cwd: dir });
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /, \d+ images \(1 read by this run\)/);
    const http = await runCli(['build', '--images', IMAGES, '--no-site', '--out', 'out3', '--base-url', 'http://images.example.org'], { cwd: dir });
    assert.equal(http.status, 0, http.stderr);
    assert.match(http.stderr, /is http:\/\/: LXD and Incus refuse/);
    const query = await runCli(['build', '--images', IMAGES, '--no-site', '--out', 'out4', '--base-url', 'https://images.example.org/?x=1'], { cwd: dir });
    assert.equal(query.status, 2, query.stderr);
    assert.match(query.stderr, /query/);
  });

  it('mirror and promote speak of themselves: no build phases they do not run, "mirror failed"', async (t) => {
    const dir = await tempDir(t);
    const up = path.join(dir, 'up');
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', up, '--no-site'], { cwd: dir })).status, 0);
    const upstream = await startUpstream(up);
    t.after(() => upstream.stop());
    const ok = await runCli(['mirror', upstream.url, '--out', 'm', '--no-site'], { cwd: dir });
    assert.equal(ok.status, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /^(finding images|reading metadata|hashing)$/m);
    upstream.faults.set('streams/v1/index.json', (_req, res) =>
      res.end('{"format":"index:1.0","index":{"x":{"datatype":"image-downloads","path":"streams/v1/nothing.json","products":[]}}}'),
    );
    const bad = await runCli(['mirror', upstream.url, '--out', 'm2', '--no-site'], { cwd: dir });
    assert.equal(bad.status, 1);
    assert.doesNotMatch(bad.stderr, /build failed/);
  });

  it('metadata.yaml: a key written twice is read as the clients read it (the last), with a warning naming the line; dates and indentation', async (t) => {
    const dir = await tempDir(t);
    const twice = `architecture: x86_64\ncreation_date: 1793577600\nproperties:\n  os: twice\n  release: "1"\n  architecture: amd64\n  serial: "20261101_00:00"\n  architecture: amd64\n`;
    await put(path.join(dir, 'images/t.tar.gz'), compress(await tarball([{ name: 'metadata.yaml', content: twice }, { name: 'rootfs/' }]), 'gzip'));
    const r = await runCli(['build', '--no-site', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /t\.tar\.gz: metadata\.yaml: properties\.architecture is written twice \(again on line 8\)/);
    assert.equal((await runCli(['verify', 'out'], { cwd: dir })).status, 0);
    const dated = `architecture: x86_64\ncreation_date: 2026-11-01\nproperties:\n  os: dated\n  release: "1"\n`;
    await put(path.join(dir, 'bad/d.tar.gz'), compress(await tarball([{ name: 'metadata.yaml', content: dated }, { name: 'rootfs/' }]), 'gzip'));
    const d = await runCli(['build', '--no-site', '--images', 'bad', '--out', 'out5'], { cwd: dir });
    assert.equal(d.status, 1);
    assert.match(d.stderr, /creation_date: is the date "2026-11-01", not seconds since 1970/);
    assert.match(d.stderr, /write creation_date: 1793491200/);
    const indent = `architecture: x86_64\ncreation_date: 1\nproperties:\n  os: a\n   release: b\n`;
    await put(path.join(dir, 'bad2/i.tar.gz'), compress(await tarball([{ name: 'metadata.yaml', content: indent }, { name: 'rootfs/' }]), 'gzip'));
    const i = await runCli(['build', '--no-site', '--images', 'bad2', '--out', 'out6'], { cwd: dir });
    assert.equal(i.status, 1);
    assert.match(i.stderr, /lines 4–5: is not valid YAML/);
  });

  it('a pzstd file is named as such, with the command to recompress it', { skip: requirements(['pzstd', 'zstd']) }, async (t) => {
    const dir = await tempDir(t);
    const tar = await tarball([{ name: 'metadata.yaml', content: metadataYaml({ os: 'p', release: '1' }) }, { name: 'rootfs/' }]);
    await put(path.join(dir, 'images/p.tar.zst'), execFileSync('pzstd', ['-q', '-c'], { input: tar }));
    const r = await runCli(['build', '--no-site', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /p\.tar\.zst: starts with a zstd skippable frame \(as pzstd writes it\)/);
    assert.match(r.stderr, /fix: recompress it with zstd itself/);
  });
});

describe('45.7 more words', () => {
  it('a tarball made from the folder above (wrap/metadata.yaml) says where metadata.yaml is and how to pack it', async (t) => {
    const dir = await tempDir(t);
    await put(
      path.join(dir, 'images/wrapped.tar.gz'),
      compress(
        await tarball([
          { name: 'wrap/' },
          { name: 'wrap/metadata.yaml', content: metadataYaml({ os: 'w', release: '1', serial: '20261101_00:00' }) },
          { name: 'wrap/rootfs/' },
        ]),
        'gzip',
      ),
    );
    const r = await runCli(['build', '--no-site', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /wrapped\.tar\.gz: metadata\.yaml is inside wrap\/, not at the top of the tarball/);
    assert.match(r.stderr, /fix: make the tarball from inside that folder: tar --numeric-owner -C wrap/);
  });

  it('--lxc says which version it is making LXC files for, one line each', { skip: requirements(['xz', 'sqfs2tar']) }, async (t) => {
    const dir = await tempDir(t);
    const r = await runCli(['build', '--images', IMAGES, '--no-site', '--out', 'out', '--lxc'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^making LXC's files for \S+ \S+ \(1 of \d+: /m);
  });
});
