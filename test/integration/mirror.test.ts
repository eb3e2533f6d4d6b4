// `staticstreams mirror` as a user runs it, against an upstream that can misbehave on purpose
// (test/support/upstream-server.ts): filters and --keep select exactly the expected images with
// the upstream's fingerprints, keys and aliases; a rerun asks the upstream for no image; a new
// upstream version costs exactly its files; a killed run resumes where it stopped; a corrupt,
// missing or unreachable upstream fails with the URL and the fix and leaves the previous output
// byte-identical; a hostile upstream is refused within its time-out, writing nothing outside --out.
// Real upstream shapes (incus-simplestreams, images.lxd.canonical.com) and the real clients are in
// test/e2e/mirror.test.ts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from '../../generator/index.js';
import { compress, metadataTarball, put, rootTarball, tarball, unifiedTarball } from '../support/images.js';
import { tempDir } from '../support/tmp.js';
import { hashTree } from '../support/tree-hash.js';
import { startUpstream, type Upstream } from '../support/upstream-server.js';
import { BIN, runCli } from '../support/cli.js';
import { productsOf, productsPath, type TreeProducts as Products } from '../support/tree.js';

const run = (args: string[], cwd: string) => runCli(args, { cwd });

/** `product version` → sorted fingerprints, from `staticstreams list --format json`. */
async function listed(tree: string, cwd: string): Promise<Map<string, string[]>> {
  const r = await run(['list', tree, '--format', 'json'], cwd);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { product: string; version: string; fingerprint: string }[];
  const map = new Map<string, string[]>();
  for (const row of rows) map.set(`${row.product} ${row.version}`, [...(map.get(`${row.product} ${row.version}`) ?? []), row.fingerprint].sort());
  return map;
}

const imageRequests = (u: Upstream) => u.log.filter((l) => l.path.startsWith('images/'));

describe('staticstreams mirror', () => {
  let work: string;
  let up: string;
  let upstream: Upstream;
  let big: Buffer;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-mirror-'));
    const images = path.join(work, 'images');
    // alpha: split root tarballs, two versions; the newer also has a VM (unified). beta: arm64 unified.
    for (const [day, marker] of [
      [1, 'alpha-1'],
      [2, 'alpha-2'],
    ] as const) {
      const serial = `2026110${day}_0000`;
      await put(path.join(images, `alpha/${day}/lxd.tar.xz`), await metadataTarball({ os: 'alpha', release: '1', variant: 'default', serial }));
      await put(path.join(images, `alpha/${day}/rootfs.tar.xz`), await rootTarball(marker));
    }
    await put(
      path.join(images, 'alpha/2/vm.tar.gz'),
      await unifiedTarball({ os: 'alpha', release: '1', variant: 'default', serial: '20261102_00:00' }, 'alpha-vm', { vm: true }),
    );
    await put(
      path.join(images, 'beta/beta.tar.gz'),
      await unifiedTarball({ os: 'beta', release: '2', variant: 'default', serial: '20261101_00:00', architecture: 'aarch64' }, 'beta'),
    );
    // gamma: a rootfs of 2 MiB of noise (incompressible), big enough to be cut off mid-download.
    big = compress(await tarball([{ name: './' }, { name: './noise', content: randomBytes(2 * 2 ** 20) }]), 'gzip');
    await put(path.join(images, 'gamma/lxd.tar.xz'), await metadataTarball({ os: 'gamma', release: '1', variant: 'default', serial: '20261101_00:00' }));
    await put(path.join(images, 'gamma/rootfs.tar.gz'), big);
    up = path.join(work, 'up');
    await build({ images, out: up, site: false, baseUrl: 'https://upstream.example' });
    upstream = await startUpstream(up);
  });
  after(async () => {
    await upstream?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('copies exactly what --filter and --keep select, with the upstream fingerprints, version keys and aliases, for both clients', async (t) => {
    const dir = await tempDir(t);
    const all = await listed(up, dir);
    const cases: [string[], string[]][] = [
      [['--filter', 'os=ALPHA', '--filter', 'arch=x86_64', '--keep', '1'], ['alpha:1:amd64:default 20261102_00:00']],
      [
        ['--filter', 'os=alpha', '--filter', 'arch=amd64'],
        ['alpha:1:amd64:default 20261101_00:00', 'alpha:1:amd64:default 20261102_00:00'],
      ],
      [['--filter', 'arch=arm64', '--filter', 'arch=riscv64'], ['beta:2:arm64:default 20261101_00:00']],
      [['--filter', 'alias=beta/*'], ['beta:2:arm64:default 20261101_00:00']],
      [['--filter', 'release=2', '--filter', 'os=alpha'], []],
    ];
    for (const [args, expected] of cases) {
      const out = path.join(dir, `m${cases.findIndex((c) => c[0] === args)}`);
      const r = await run(['mirror', upstream.url, '--out', out, '--no-site', ...args], dir);
      if (expected.length === 0) {
        assert.equal(r.status, 1, `${args.join(' ')}: selects nothing`);
        assert.match(
          r.stderr,
          /nothing to mirror: the filters \(release=2, os=alpha\) select no image of http:\/\/127\.0\.0\.1:\d+\/\n {2}fix: loosen --filter/,
        );
        continue;
      }
      assert.equal(r.status, 0, `${args.join(' ')}\n${r.stderr}`);
      const got = await listed(out, dir);
      assert.deepEqual([...got.keys()].sort(), expected, args.join(' '));
      for (const [version, fps] of got) assert.deepEqual(fps, all.get(version), `${version}: the upstream's fingerprints`);
      assert.equal((await run(['verify', out], dir)).status, 0);
    }
    // type: only the VM of alpha's newer version; its metadata-sharing container is left out.
    const out = path.join(dir, 'vm');
    const r = await run(['mirror', upstream.url, '--out', out, '--no-site', '--filter', 'type=virtual-machine'], dir);
    assert.equal(r.status, 0, r.stderr);
    const vmRows = JSON.parse((await run(['list', out, '--format', 'json'], dir)).stdout) as { type: string }[];
    assert.ok(vmRows.length === 1 && vmRows[0]!.type === 'virtual-machine', JSON.stringify(vmRows));
    // The upstream's items, keys and aliases as published, and the other client's items beside them.
    const full = path.join(dir, 'full');
    assert.equal((await run(['mirror', upstream.url, '--out', full, '--no-site'], dir)).status, 0);
    const [a, b] = [productsOf(up).products, productsOf(full).products];
    for (const [pkey, p] of Object.entries(a)) {
      assert.equal(b[pkey]!.aliases, p.aliases, `${pkey}: aliases kept`);
      for (const [vkey, v] of Object.entries(p.versions))
        for (const [ikey, item] of Object.entries(v.items)) assert.deepEqual(b[pkey]!.versions[vkey]!.items[ikey], item, `${pkey} ${vkey} ${ikey}`);
    }
  });

  it('a rerun asks the upstream for no image; a new upstream version downloads exactly its files; a mirror of the mirror works', async (t) => {
    const dir = await tempDir(t);
    const out = path.join(dir, 'mirror');
    assert.equal((await run(['mirror', upstream.url, '--out', out, '--no-site', '--filter', 'os=alpha'], dir)).status, 0);
    upstream.log.length = 0;
    const inode = statSync(out).ino;
    const again = await run(['mirror', upstream.url, '--out', out, '--no-site', '--filter', 'os=alpha', '--json'], dir);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(imageRequests(upstream), [], 'no image file requested');
    assert.equal(JSON.parse(again.stdout).mirror.heldVersions, 2);
    // Nothing new upstream: like a no-change build, nothing is written (the output is not even swapped).
    assert.equal(JSON.parse(again.stdout).filesLinked, 0);
    assert.equal(statSync(out).ino, inode, 'the output folder was not replaced');

    // A new upstream version: publish it on top of the upstream tree (a copy, to keep the shared one).
    const up2 = path.join(dir, 'up2');
    await cp(up, up2, { recursive: true });
    const images = path.join(dir, 'new');
    await put(path.join(images, 'lxd.tar.xz'), await metadataTarball({ os: 'alpha', release: '1', variant: 'default', serial: '20261103_00:00' }));
    await put(path.join(images, 'rootfs.tar.xz'), await rootTarball('alpha-3'));
    await build({ images, previous: up2, out: up2, site: false });
    const second = await startUpstream(up2);
    t.after(() => second.stop());
    const r = await run(['mirror', second.url, '--out', out, '--no-site', '--filter', 'os=alpha', '--json'], dir);
    assert.equal(r.status, 0, r.stderr);
    const newVersion = productsOf(up2).products['alpha:1:amd64:default']!.versions['20261103_00:00']!;
    const newFiles = [...new Set(Object.values(newVersion.items).map((i) => i.path))].sort();
    assert.deepEqual(
      imageRequests(second)
        .map((l) => l.path)
        .sort(),
      newFiles,
      'exactly the new version’s files',
    );
    assert.deepEqual(JSON.parse(r.stdout).mirror.downloadedVersions, ['alpha:1:amd64:default 20261103_00:00']);
    assert.equal((await run(['verify', out], dir)).status, 0);

    // The mirror, served, is an upstream too.
    const served = await startUpstream(out);
    t.after(() => served.stop());
    const twice = path.join(dir, 'twice');
    const m2 = await run(['mirror', served.url, '--out', twice, '--no-site'], dir);
    assert.equal(m2.status, 0, m2.stderr);
    assert.deepEqual(await listed(twice, dir), await listed(out, dir));
  });

  it('resumes a download cut off by a kill: the bytes already fetched are not fetched again', async (t) => {
    const dir = await tempDir(t);
    const out = path.join(dir, 'mirror');
    const bigPath = Object.values(productsOf(up).products['gamma:1:amd64:default']!.versions['20261101_00:00']!.items).find((i) => i.size === big.length)!.path;
    upstream.throttle = 400 * 1024;
    upstream.log.length = 0;
    const child = spawn(process.execPath, [BIN, 'mirror', upstream.url, '--out', out, '--no-site', '--filter', 'os=gamma', '-q'], {
      cwd: dir,
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('exit', r));
    const deadline = Date.now() + 30_000;
    while (!((upstream.log.find((l) => l.path === bigPath)?.sent ?? 0) > 600 * 1024) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    upstream.throttle = 0;
    const first = upstream.log.find((l) => l.path === bigPath)!.sent;
    assert.ok(first > 500 * 1024 && first < big.length, `killed mid-download (${first} of ${big.length} bytes sent)`);
    assert.ok(!existsSync(path.join(out, 'streams')), 'nothing published by the killed run');
    const r = await run(['mirror', upstream.url, '--out', out, '--no-site', '--filter', 'os=gamma', '--json'], dir);
    assert.equal(r.status, 0, r.stderr);
    const resumed = upstream.log.filter((l) => l.path === bigPath).slice(1);
    assert.equal(resumed.length, 1);
    assert.match(resumed[0]!.range ?? '', /^bytes=\d+-$/, 'the rerun asks for the rest only');
    const offset = Number(/\d+/.exec(resumed[0]!.range!)![0]);
    assert.ok(offset > 0 && offset <= first, `resumed from ${offset}`);
    assert.equal(offset + resumed[0]!.sent, big.length, 'the rest, once');
    assert.ok(JSON.parse(r.stdout).mirror.bytesResumed >= offset);
    assert.equal((await run(['verify', out], dir)).status, 0);
    assert.ok(!existsSync(path.join(dir, '.mirror.downloads')), 'the downloads folder is gone once published');
  });

  it('a corrupt, missing or unreachable upstream: exit 1 with the URL and the fix; the previous output stays byte-identical', async (t) => {
    const dir = await tempDir(t);
    const out = path.join(dir, 'mirror');
    assert.equal((await run(['mirror', upstream.url, '--out', out, '--no-site', '--filter', 'os=beta'], dir)).status, 0);
    const before = await hashTree(out);
    const alpha = productsOf(up).products['alpha:1:amd64:default']!.versions['20261101_00:00']!.items;
    const rootfs = Object.values(alpha).find((i) => i.ftype === 'root.tar.xz')!;
    const newer = productsOf(up).products['alpha:1:amd64:default']!.versions['20261102_00:00']!.items;
    const meta = Object.values(newer).find((i) => i.ftype === 'lxd.tar.xz')!;
    const cases: [string, () => void, RegExp][] = [
      [
        'a missing file',
        () => upstream.faults.set(meta.path, (_q, res) => res.writeHead(404).end()),
        new RegExp(`${meta.path.replace(/[.]/g, '\\.')}: HTTP 404`),
      ],
      [
        'a missing products file',
        () => upstream.faults.set(productsPath(up), (_q, res) => res.writeHead(404).end()),
        /streams\/v1\/[^ ]+: listed in http:\/\/127\.0\.0\.1:\d+\/streams\/v1\/index\.json but not found\n {2}fix: /,
      ],
      [
        'same size, other bytes',
        () => upstream.faults.set(rootfs.path, (_q, res) => res.end(Buffer.alloc(rootfs.size, 7))),
        new RegExp(
          `${rootfs.path.replace(/[.]/g, '\\.')}: its sha256 is [0-9a-f]{64}, the upstream index lists ${rootfs.sha256}[^\\n]*\\n {2}fix: nothing was published`,
        ),
      ],
    ];
    const downloads = path.join(dir, '.mirror.downloads');
    for (const [name, fault, message] of cases) {
      await rm(downloads, { recursive: true, force: true }); // each case from scratch (a rerun reuses what was fetched)
      upstream.faults.clear();
      fault();
      const r = await run(['mirror', upstream.url, '--out', out, '--no-site'], dir);
      assert.equal(r.status, 1, name);
      assert.match(r.stderr, message, name);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
      assert.equal(await hashTree(out), before, `${name}: the previous output is unchanged`);
    }
    upstream.faults.clear();
    assert.ok(!existsSync(path.join(downloads, rootfs.sha256)) && !existsSync(path.join(downloads, `${rootfs.sha256}.part`)), 'no corrupt byte kept');
    const gone = await run(['mirror', 'http://127.0.0.1:9/', '--out', out, '--no-site', '--timeout', '2'], dir);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /cannot read http:\/\/127\.0\.0\.1:9\/streams\/v1\/index\.json: [^\n]+\n {2}fix: /);
    assert.equal(await hashTree(out), before);
  });

  it('refuses a hostile upstream within its time-out, writing nothing outside --out', async (t) => {
    const dir = await tempDir(t);
    writeFileSync(path.join(dir, 'staticstreams.yaml'), 'mirror:\n  retries: 0\n');
    const good = productsOf(up);
    const rel = productsPath(up);
    const someItem = (p: Products) => Object.values(Object.values(p.products['alpha:1:amd64:default']!.versions)[0]!.items)[0]!;
    const mutate = (f: (p: Products) => void) => {
      const copy = structuredClone(good);
      f(copy);
      return JSON.stringify(copy);
    };
    const hostile: [string, (res: import('node:http').ServerResponse) => void, RegExp, string?][] = [
      ['an escaping path', (res) => res.end(mutate((p) => (someItem(p).path = '../../../escape'))), /field path: must be a relative path inside the tree/],
      [
        'a percent-encoded escape',
        (res) => res.end(mutate((p) => (someItem(p).path = 'images/%2e%2e/%2E%2E/%2e%2e/x'))),
        /leaves the tree \(once percent-decoded\)/,
      ],
      ['an absolute path', (res) => res.end(mutate((p) => (someItem(p).path = '/etc/passwd'))), /field path: must be a relative path inside the tree/],
      ['a huge size', (res) => res.end(mutate((p) => (someItem(p).size = 2 ** 50))), /field size: \d+ bytes, more than 1 TiB/],
      [
        'a header-splitting alias',
        (res) => res.end(mutate((p) => (p.products['alpha:1:amd64:default']!.aliases = 'alpha/1\r\nSet-Cookie:x=1'))),
        /field aliases: must be one comma-joined string without spaces|is not an alias a client can type/,
      ],
      [
        'markup in an alias',
        (res) => res.end(mutate((p) => (p.products['alpha:1:amd64:default']!.aliases = 'alpha/<script>'))),
        /is not an alias a client can type/,
      ],
      [
        'a control character in a version key',
        (res) =>
          res.end(
            mutate((p) => {
              const v = p.products['beta:2:arm64:default']!.versions;
              v['20261101\u0007'] = v['20261101_00:00']!;
            }),
          ),
        /version "20261101\\u0007": "20261101\\u0007" holds a control character/,
      ],
      [
        'a products file that never ends',
        (res) => {
          res.writeHead(200);
          const chunk = Buffer.alloc(1 << 20, 0x20);
          const pump = () => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once('drain', pump);
          };
          pump();
        },
        /larger than 256 MiB, far beyond any real index/,
      ],
      [
        'a server that trickles',
        (res) => {
          res.writeHead(200);
          const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 100);
        },
        /less than 16 KiB\/s for 1 s \(the server stalled or trickles\) \(after 1 attempts\)/,
      ],
    ];
    const before = readdirSync(dir).sort();
    for (const [name, answer, message] of hostile) {
      upstream.faults.clear();
      upstream.faults.set(rel, (_q, res) => answer(res));
      const started = Date.now();
      const r = await run(['mirror', upstream.url, '--out', 'out', '--no-site', '--timeout', '1'], dir);
      upstream.faults.clear();
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
      assert.ok(Date.now() - started < 30_000, `${name}: refused within its time-out`);
      assert.deepEqual(readdirSync(dir).sort(), before, `${name}: nothing written`);
    }
    // A redirect loop on the index, and an image file longer than its index says.
    upstream.faults.set('streams/v1/index.json', (_q, res) => res.writeHead(302, { location: '/streams/v1/index.json' }).end());
    let r = await run(['mirror', upstream.url, '--out', 'out', '--no-site'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /streams\/v1\/index\.json: too many redirects \(a redirect loop\?\)/);
    upstream.faults.clear();
    const item = Object.values(good.products['beta:2:arm64:default']!.versions['20261101_00:00']!.items)[0]!;
    // Declared (Content-Length) or not (chunked, so it shows only while reading).
    upstream.faults.set(item.path, (_q, res) => res.end(Buffer.alloc(item.size + 100_000, 1)));
    r = await run(['mirror', upstream.url, '--out', 'out', '--no-site', '--filter', 'os=beta'], dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`: is ${item.size + 100_000} bytes, the upstream index lists ${item.size}: the file was changed or is corrupt, and was not kept`),
    );
    upstream.faults.set(item.path, (_q, res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(item.size + 100_000, 1));
      res.end();
    });
    r = await run(['mirror', upstream.url, '--out', 'out', '--no-site', '--filter', 'os=beta'], dir);
    upstream.faults.clear();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /sends more than the \d+ bytes the upstream index lists; nothing of it was kept/);
    assert.ok(!existsSync(path.join(dir, 'out')), 'nothing published');
    const kept = existsSync(path.join(dir, '.out.downloads')) ? readdirSync(path.join(dir, '.out.downloads')) : [];
    assert.deepEqual(kept, [], 'no byte of it kept');
  });

  it("escapes what a mirrored image's metadata says on the catalogue site", async (t) => {
    const dir = await tempDir(t);
    const evil = '<img src=x onerror=alert(1)>';
    upstream.faults.set('catalog.json', (_q, res) => {
      const catalog = JSON.parse(readFileSync(path.join(up, 'catalog.json'), 'utf8')) as { products: { versions: { images: { description?: string }[] }[] }[] };
      for (const p of catalog.products) for (const v of p.versions) for (const i of v.images) i.description = evil;
      res.end(JSON.stringify(catalog));
    });
    t.after(() => upstream.faults.clear());
    const out = path.join(dir, 'mirror');
    const r = await run(['mirror', upstream.url, '--out', out, '--filter', 'os=beta'], dir);
    assert.equal(r.status, 0, r.stderr);
    const pages = readdirSync(path.join(out, 'products'), { recursive: true }).filter((f) => String(f).endsWith('.html'));
    const html = pages.map((f) => readFileSync(path.join(out, 'products', String(f)), 'utf8')).join('\n');
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'), 'the description is shown as text');
    // Quoted attribute values (the page description) may hold it verbatim: no markup there.
    assert.ok(!html.replace(/="[^"]*"/g, '=""').includes(evil), 'never as markup');
  });

  it('publishes local images next to mirrored ones; a product claimed twice is an error naming both', async (t) => {
    const dir = await tempDir(t);
    const images = path.join(dir, 'images');
    await put(path.join(images, 'local.tar.gz'), await unifiedTarball({ os: 'local', release: '1', serial: '20261101_00:00' }, 'local'));
    const out = path.join(dir, 'mirror');
    let r = await run(['mirror', upstream.url, '--images', images, '--out', out, '--no-site', '--filter', 'os=beta'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([...(await listed(out, dir)).keys()].sort(), ['beta:2:arm64:default 20261101_00:00', 'local:1:amd64:default 20261101_00:00'].sort());
    await put(
      path.join(images, 'beta.tar.gz'),
      await unifiedTarball({ os: 'beta', release: '2', variant: 'default', serial: '20261105_00:00', architecture: 'aarch64' }, 'x'),
    );
    r = await run(['mirror', upstream.url, '--images', images, '--out', out, '--no-site', '--filter', 'os=beta'], dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /product beta:2:arm64:default is both mirrored from http:\/\/127\.0\.0\.1:\d+\/ and built from the images folder\n {2}files: beta\.tar\.gz/,
    );
    await rm(path.join(images, 'beta.tar.gz'));
    // Two upstreams publishing one product.
    const copy = path.join(dir, 'copy');
    await mkdir(copy);
    await cp(up, copy, { recursive: true });
    const other = await startUpstream(copy);
    t.after(() => other.stop());
    r = await run(['mirror', upstream.url, other.url, '--out', path.join(dir, 'two'), '--no-site', '--filter', 'os=beta'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /product beta:2:arm64:default is published by two upstreams: http:\/\/127\.0\.0\.1:\d+\/ and http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('--dry-run says which versions it would copy and downloads and writes nothing', async (t) => {
    const dir = await tempDir(t);
    const r = await run(['mirror', upstream.url, '--out', 'out', '--no-site', '--filter', 'os=alpha', '--dry-run'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /would copy 2 versions\n {2}alpha:1:amd64:default 20261101_00:00\n {2}alpha:1:amd64:default 20261102_00:00\n0 already held/);
    assert.deepEqual(readdirSync(dir), [], 'no output, no downloads, no cache');
  });

  it('runs from the config file alone (mirror: upstreams, filter, keep) and explains bad settings', async (t) => {
    const dir = await tempDir(t);
    writeFileSync(path.join(dir, 'staticstreams.yaml'), `mirror:\n  upstreams: [${upstream.url}]\n  filter: [os=alpha]\n  keep: 1\n`);
    const r = await run(['mirror', '--no-site', '-q'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([...(await listed('dist', dir)).keys()], ['alpha:1:amd64:default 20261102_00:00']);
    writeFileSync(path.join(dir, 'staticstreams.yaml'), 'mirror:\n  filter: [colour=blue, os]\n');
    const bad = await run(['mirror', upstream.url, '--out', 'x'], dir);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /"colour" is not a filter key; use one of os, release, arch, variant, type, alias/);
    assert.match(bad.stderr, /"os" is not KEY=GLOB/);
    const usage = await run(['mirror', upstream.url, '--filter', 'arch', '--out', 'x'], path.dirname(dir));
    assert.equal(usage.status, 2);
    assert.equal((await run(['mirror', '--out', 'x'], path.dirname(dir))).status, 2, 'no upstream');
  });
});
