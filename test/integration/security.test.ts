// The adversarial review's attacks (issue 33), each through the CLI as a user or an attacker
// would meet it: hostile image files (bombs held in memory, links leaving templates/, data after
// the tar end), hostile upstreams and servers (paths a host runs as code, endless or trickling
// bodies, HTML where JSON belongs, terminal escapes, redirects to private addresses), and races
// (stale locks, symlinked outputs). Each case failed on the code before its fix.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, lstatSync, mkdtempSync, symlinkSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import https from 'node:https';
import { build, startPreview } from '../../generator/index.js';
import { pathToFileURL } from 'node:url';
import { startUpstream, type Upstream } from '../support/upstream-server.js';
import path from 'node:path';
import { tempDir } from '../support/tmp.js';
import { requirements } from '../support/require.js';
import { hashTree } from '../support/tree-hash.js';
import { productsOf, productsPath as productsRel } from '../support/tree.js';
import { cp as cpAsync, mkdir as mkdirAsync, rm as rmAsync } from 'node:fs/promises';
import { bombTarball, compress, metadataTarball, put, rootTarball, tarball, unifiedTarball } from '../support/images.js';
import { runCli, runCliPeak } from '../support/cli.js';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');

/** Peak resident memory a refused bomb may cost: Node, two workers and a bounded decoder. */
const BOMB_PEAK_MIB = 400;

describe('#2 decompression bombs are refused with bounded memory, wherever they are read', { skip: requirements(['xz', 'bzip2', 'zstd']) }, () => {
  const EXT = { gzip: 'gz', xz: 'xz', bzip2: 'bz2', zstd: 'zst' } as const;
  const bombs: [string, keyof typeof EXT, () => Promise<Buffer>][] = [
    ...(['gzip', 'xz', 'bzip2', 'zstd'] as const).map((c): [string, typeof c, () => Promise<Buffer>] => [`${c}, 4 GiB of zeros`, c, () => bombTarball(c, 64)]),
    // A zstd frame announcing a 2 GiB window (zstd -d refuses more than 128 MiB without --memory).
    [
      'zstd with a 2 GiB window',
      'zstd',
      async () => execFileSync('zstd', ['-q', '-c', '--long=31'], { input: await tarball([{ name: 'x', content: 'x'.repeat(4096) }]) }),
    ],
  ];
  for (const [name, compression, make] of bombs) {
    it(`${name}: build refuses it, peak memory bounded, nothing published`, async (t) => {
      const dir = await tempDir(t);
      const bomb = await make();
      await put(path.join(dir, 'images/bomb/lxd.tar.xz'), await metadataTarball({ os: 'bomb', release: '1', serial: '20261101_00:00' }));
      await put(path.join(dir, `images/bomb/rootfs.tar.${EXT[compression]}`), bomb);
      const r = await runCliPeak(['build', '--no-site', '--no-cache', '-q', '--out', 'out'], { cwd: dir, timeoutMs: 60_000 });
      t.diagnostic(`${name}: ${bomb.length} bytes, exit ${r.status}, peak ${r.peakMiB} MiB, ${r.ms} ms`);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /rootfs\.tar\.\w+: .*(refused as a decompression bomb|window)/);
      noStack(r.stderr);
      assert.ok(r.peakMiB < BOMB_PEAK_MIB, `peak ${r.peakMiB} MiB < ${BOMB_PEAK_MIB} MiB`);
      assert.ok(r.ms < 30_000, `refused in ${r.ms} ms: the decoder stops at the refusal`);
    });
  }

  it('a root tarball over 1 MiB expanding 300× past 64 MiB is refused (the README promise, not 1000× past 4 GiB)', async (t) => {
    const dir = await tempDir(t);
    // 1.2 MB of noise, then 9 × 64 MiB of zeros: ~1.8 MB expanding ~330× (a whole, valid tarball).
    const noise = await tarball([{ name: 'noise', content: randomBytes(1_200_000) }]);
    const bomb = await bombTarball('gzip', 9, noise.subarray(0, noise.length - 1024));
    await put(path.join(dir, 'images/big/lxd.tar.xz'), await metadataTarball({ os: 'big', release: '1', serial: '20261101_00:00' }));
    await put(path.join(dir, 'images/big/rootfs.tar.gz'), bomb);
    const r = await runCli(['build', '--no-site', '--no-cache', '-q', '--out', 'out'], { cwd: dir });
    t.diagnostic(`${bomb.length} bytes`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /expands more than 200× \(\d+ bytes from \d+\): refused as a decompression bomb/);
  });
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('#1 #3 #4 #5 mirror and verify copy only image files, where image files belong, that are what they say', () => {
  let work: string;
  let up: string;
  let upstream: Upstream;
  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-security-'));
    const images = path.join(work, 'images');
    await put(path.join(images, 'alpha/lxd.tar.xz'), await metadataTarball({ os: 'alpha', release: '1', serial: '20261101_00:00' }));
    await put(path.join(images, 'alpha/rootfs.tar.xz'), await rootTarball('alpha'));
    await put(path.join(images, 'beta.tar.gz'), await unifiedTarball({ os: 'beta', release: '1', serial: '20261101_00:00' }, 'beta'));
    up = path.join(work, 'up');
    await build({ images, out: up, site: false, baseUrl: 'https://upstream.example' });
    upstream = await startUpstream(up);
  });
  after(async () => {
    await upstream?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Serves the upstream's products file with one more item, whose file (`bytes`) is served at its path. */
  const withItem = (ftype: string, rel: string, bytes: Buffer, product = 'beta:1:amd64:default') => {
    const products = productsOf(up);
    const version = Object.values(products.products[product]!.versions)[0]!;
    version.items[`extra-${ftype}`] = { ftype, path: rel, sha256: sha256(bytes), size: bytes.length };
    upstream.faults.set(productsRel(up), (_q, res) => res.end(JSON.stringify(products)));
    if (!rel.startsWith('streams/')) upstream.faults.set(rel, (_q, res) => res.end(bytes));
  };

  it('refuses an item at a path a host runs, a page, or a file the build writes (correct sha256), writing nothing', async (t) => {
    const dir = await tempDir(t);
    const cases = [
      ['_worker.js', 'worker'],
      ['_redirects', 'redirects'],
      ['_headers', 'squashfs'],
      ['.well-known/acme-challenge/x', 'squashfs'],
      ['evil.html', 'squashfs'],
      ['images/beta/evil.html', 'squashfs'],
      ['images/.htaccess', 'squashfs'],
      ['catalog.json', 'lxd.tar.xz'],
      ['staticstreams-state.json', 'squashfs'],
      ['streams/v1/index.json', 'squashfs'],
    ];
    for (const [rel, ftype] of cases) {
      t.after(() => upstream.faults.clear());
      withItem(ftype!, rel!, Buffer.from('<script>alert(document.domain)</script>'));
      const r = await runCli(['mirror', upstream.url, '--out', 'out', '--no-site'], { cwd: dir });
      upstream.faults.clear();
      assert.equal(r.status, 1, `${rel}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(
          `field path: ${JSON.stringify(rel).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (is outside the tree's image folder images/|has the name|does not end in an image file extension)`,
        ),
        rel,
      );
      noStack(r.stderr);
      assert.deepEqual(readdirSync(dir), [], `${rel}: nothing written`);
    }
  });

  it('leaves out an item of an ftype no client reads, with a warning', async (t) => {
    const dir = await tempDir(t);
    t.after(() => upstream.faults.clear());
    withItem('sha256sums', 'images/beta/beta.sums.tar.xz', Buffer.from('not an image'));
    const r = await runCli(['mirror', upstream.url, '--out', 'out', '--no-site'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /1 item of ftype "sha256sums" left out: no client reads that type/);
    assert.ok(!existsSync(path.join(dir, 'out/images/beta/beta.sums.tar.xz')));
    assert.ok(!readFileSync(path.join(dir, 'out', productsRel(path.join(dir, 'out'))), 'utf8').includes('sha256sums'));
  });

  it('a package manifest item (copied with its image) whose content is not a manifest is refused, naming it; nothing written', async (t) => {
    const dir = await tempDir(t);
    t.after(() => upstream.faults.clear());
    for (const [ftype, rel, body] of [
      ['manifest', 'images/beta/beta.manifest', '<script>alert(1)</script>\n'],
      [
        'manifest.json',
        'images/beta/beta.packages.json',
        '{"format":"staticstreams-packages/1","database":"dpkg","packages":[{"name":"<b>x</b>","version":"1"}]}',
      ],
    ] as const) {
      withItem(ftype, rel, Buffer.from(body));
      const r = await runCli(['mirror', upstream.url, '--out', 'out', '--no-site'], { cwd: dir });
      upstream.faults.clear();
      assert.equal(r.status, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`${rel.replace('.', '\\.')}: the ${ftype.replace('.', '\\.')} item (is not a package manifest|lists a package with a bad name)`),
      );
      noStack(r.stderr);
      // (the downloads stay in .out.downloads, for the next run to resume from)
      assert.ok(!existsSync(path.join(dir, 'out')), 'nothing published');
    }
  });

  it('#4 refuses one path listed twice with two sha256 values', async (t) => {
    const dir = await tempDir(t);
    t.after(() => upstream.faults.clear());
    const products = productsOf(up);
    const version = Object.values(products.products['beta:1:amd64:default']!.versions)[0]!;
    const first = Object.values(version.items)[0]!;
    version.items['again'] = { ...first, sha256: 'f'.repeat(64) };
    upstream.faults.set(productsRel(up), (_q, res) => res.end(JSON.stringify(products)));
    const r = await runCli(['mirror', upstream.url, '--out', 'out', '--no-site'], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /item again, field path: ".*" is listed again with another sha256 or size \(first at/);
  });

  it('#5 refuses random bytes or a tarball without metadata.yaml listed as a unified image (mirror and verify)', async (t) => {
    const dir = await tempDir(t);
    const noMetadata = compress(await tarball([{ name: 'rootfs/' }, { name: 'rootfs/marker', content: 'x\n' }]), 'gzip');
    for (const [name, bytes, message] of [
      ['random bytes', randomBytes(4096), /but is no image file|is not a tarball, squashfs or qcow2 file/],
      ['a tar.gz without metadata.yaml', noMetadata, /has a rootfs but no metadata\.yaml|but is a root filesystem tarball/],
    ] as const) {
      t.after(() => upstream.faults.clear());
      // Replace beta's unified item by these bytes (its fingerprint is its sha256).
      const products = productsOf(up);
      const version = Object.values(products.products['beta:1:amd64:default']!.versions)[0]!;
      for (const item of Object.values(version.items)) Object.assign(item, { path: 'images/beta/fake.tar.gz', sha256: sha256(bytes), size: bytes.length });
      upstream.faults.set(productsRel(up), (_q, res) => res.end(JSON.stringify(products)));
      upstream.faults.set('images/beta/fake.tar.gz', (_q, res) => res.end(bytes));
      const r = await runCli(['mirror', upstream.url, '--out', 'out', '--no-site', '--filter', 'os=beta'], { cwd: dir });
      upstream.faults.clear();
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.ok(!existsSync(path.join(dir, 'out')), `${name}: nothing published`);
      // verify of a tree listing it the same way
      const tree = path.join(dir, `tree-${name.length}`);
      cpSync(up, tree, { recursive: true });
      writeFileSync(path.join(tree, 'images/beta/fake.tar.gz'), bytes);
      writeFileSync(path.join(tree, productsRel(up)), JSON.stringify(products));
      const v = await runCli(['verify', tree], { cwd: dir });
      assert.equal(v.status, 1, `verify, ${name}: ${v.stdout}${v.stderr}`);
      assert.match(
        v.stdout + v.stderr,
        /is listed as (lxd|incus)_combined\.tar\.gz \(a unified image tarball\) but (is no tarball|holds no metadata\.yaml)/,
        name,
      );
    }
  });

  it('verify refuses a tree listing a file at _worker.js or a page', async (t) => {
    const dir = await tempDir(t);
    for (const rel of ['_worker.js', 'images/beta/evil.html']) {
      const tree = path.join(dir, rel.replace(/\W/g, ''));
      cpSync(up, tree, { recursive: true });
      const bytes = Buffer.from('export default { fetch() { return new Response("owned") } }');
      await put(path.join(tree, rel), bytes);
      const products = productsOf(tree);
      Object.values(products.products['beta:1:amd64:default']!.versions)[0]!.items['evil'] = {
        ftype: 'squashfs',
        path: rel,
        sha256: sha256(bytes),
        size: bytes.length,
      };
      writeFileSync(path.join(tree, productsRel(tree)), JSON.stringify(products));
      const v = await runCli(['verify', tree], { cwd: dir });
      assert.equal(v.status, 1, `${rel}: ${v.stdout}`);
      assert.match(v.stdout + v.stderr, new RegExp(`evil.*path "${rel.replace(/[.]/g, '\\.')}" (has the name|does not end in an image file extension)`), rel);
    }
  });
});

describe('#17 #19 the generated lookups and the preview server at their edges', () => {
  let work: string;
  let tree: string;
  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-edges-'));
    tree = path.join(work, 'dist');
    await build({ images: path.resolve('images'), out: tree, site: false, baseUrl: 'https://images.example.org', targets: ['netlify', 'cloudflare'] });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const prototypeKeys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

  it('#17 /import/sha256/__proto__ (and constructor, toString) is a 404 in serve, the Cloudflare worker and the Netlify edge function', async () => {
    const server = await startPreview({ dir: tree, port: 0 });
    try {
      for (const key of prototypeKeys) {
        for (const p of [`/import/sha256/${key}`, `/import/alias/${key}`, `/import/alias/busybox/1.36@${key}`]) {
          const res = await fetch(`${server.url}${p}`, { headers: { 'LXD-Server-Architectures': key } });
          assert.equal(res.status, 404, `serve ${p}`);
        }
      }
    } finally {
      await server.close();
    }
    const worker = (await import(pathToFileURL(path.join(tree, '_worker.js')).href)) as { default: { fetch(r: Request, env: unknown): Promise<Response> } };
    const edgeFile = path.join(tree, '..', 'dist-server-config', 'netlify-edge-functions', 'staticstreams-import.js');
    const edge = (await import(pathToFileURL(edgeFile).href)) as { default: (r: Request) => Promise<Response | undefined> };
    for (const key of prototypeKeys) {
      for (const p of [`/import/sha256/${key}`, `/import/alias/${key}`, `/import/alias/busybox/1.36@${key}`]) {
        const request = () => new Request(`https://images.example.org${p}`, { headers: { 'Incus-Server-Architectures': key } });
        assert.equal((await worker.default.fetch(request(), { ASSETS: { fetch: () => new Response('asset') } })).status, 404, `worker ${p}`);
        assert.equal((await edge.default(request()))?.status, 404, `edge function ${p}`);
      }
    }
  });

  it('#19 serve ignores a Range it does not understand (200, the whole file) and answers 416 only past the end', async () => {
    const server = await startPreview({ dir: tree, port: 0 });
    try {
      const url = `${server.url}/catalog.json`;
      const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
      for (const range of ['items=0-1', 'bytes=0-1,4-5', 'bytes = 0-1', 'bytes=5-2', 'bytes=x-1', 'bytes=-']) {
        const res = await fetch(url, { headers: { Range: range } });
        assert.equal(res.status, 200, range);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), whole, `${range}: the whole file`);
      }
      const part = await fetch(url, { headers: { Range: 'bytes=0-1' } });
      assert.equal(part.status, 206);
      assert.equal(await part.text(), whole.subarray(0, 2).toString());
      assert.equal((await fetch(url, { headers: { Range: `bytes=${whole.length}-` } })).status, 416);
    } finally {
      await server.close();
    }
  });
});

describe('#8 a serial in the future is refused like a future creation_date', () => {
  it('names the field and the fix; nothing is published', async (t) => {
    const dir = await tempDir(t);
    await put(path.join(dir, 'images/a.tar.gz'), await unifiedTarball({ os: 'future', release: '1', serial: '99991231_23:59' }, 'x'));
    const r = await runCli(['build', '--no-site', '-q', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /metadata\.yaml: properties\.serial: "99991231_23:59" names 9999-12-31T23:59:00\.000Z, in the future \(more than a day after [^)]+, the build's clock\)\n {2}fix: set serial to the build time/,
    );
    assert.ok(!existsSync(path.join(dir, 'out')));
    noStack(r.stderr);
  });
});

describe('#14 an --out that is a symbolic link', () => {
  it('is refused with exit 2, the link and its target untouched', async (t) => {
    const dir = await tempDir(t);
    await cpAsync(path.resolve('images'), path.join(dir, 'images'), { recursive: true });
    let r = await runCli(['build', '--no-site', '-q', '--out', 'real'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    symlinkSync('real', path.join(dir, 'dist'));
    const before = await hashTree(dir);
    r = await runCli(['build', '--no-site', '-q', '--out', 'dist'], { cwd: dir });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--out dist is a symbolic link; .*\n {2}fix: give --out the folder the link points to \(.*\/real\)/);
    assert.ok(lstatSync(path.join(dir, 'dist')).isSymbolicLink(), 'the link is still a link');
    assert.equal(await hashTree(dir), before, 'nothing changed');
  });
});

describe('#20 data after the end-of-archive marker', { skip: requirements(['tar']) }, () => {
  for (const [name, padding] of [
    ['a small tarball (read in memory)', 0],
    ['a tarball over 1 MiB (streamed)', 2 * 2 ** 20],
  ] as const) {
    it(`${name}: published as GNU tar reads it (the rest ignored); a missing marker is still refused`, async (t) => {
      const dir = await tempDir(t);
      const entries = [
        { name: 'etc/' },
        { name: 'etc/os-release', content: 'ID=trailing\n' },
        ...(padding ? [{ name: 'noise', content: randomBytes(padding) }] : []),
      ];
      const tar = await tarball(entries);
      const trailing = Buffer.concat([tar, Buffer.from('trailing garbage that is no tar header'.repeat(40))]);
      // GNU tar extracts it without a word.
      execFileSync('tar', ['-tf', '-'], { input: trailing, stdio: ['pipe', 'ignore', 'pipe'] });
      await put(path.join(dir, 'images/t/lxd.tar.xz'), await metadataTarball({ os: 'trailing', release: '1', serial: '20261101_00:00' }));
      await put(path.join(dir, 'images/t/rootfs.tar.gz'), compress(trailing, 'gzip'));
      let r = await runCli(['build', '--no-site', '-q', '--no-cache', '--out', 'out'], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      const v = await runCli(['verify', 'out'], { cwd: dir });
      assert.equal(v.status, 0, v.stdout + v.stderr);
      // The same tarball without its end-of-archive marker is still refused.
      await put(path.join(dir, 'images/t/rootfs.tar.gz'), compress(tar.subarray(0, tar.length - 1024), 'gzip'));
      r = await runCli(['build', '--no-site', '-q', '--no-cache', '--out', 'out2'], { cwd: dir });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /has no tar end-of-archive marker/);
    });
  }
});

describe('#16 text from a tree or a server is printed with its control characters escaped', () => {
  it('list and verify of a tree whose product key and alias hold terminal escapes', async (t) => {
    const dir = await tempDir(t);
    const tree = path.join(dir, 'tree');
    await build({ images: path.resolve('images'), out: tree, site: false, baseUrl: 'https://images.example.org' });
    const rel = productsRel(tree);
    const text = readFileSync(path.join(tree, rel), 'utf8');
    const products = JSON.parse(text) as { products: Record<string, { aliases: string }> };
    const [key, product] = Object.entries(products.products)[0]!;
    delete products.products[key];
    product.aliases = `${product.aliases},\u001b]0;owned\u0007\u001b[2J`;
    products.products[`\u001b[31mred\u001b[0m:${key}`] = product;
    writeFileSync(path.join(tree, rel), JSON.stringify(products));
    for (const args of [
      ['list', tree],
      ['verify', tree, '--quick'],
    ]) {
      const r = await runCli(args, { cwd: dir });
      const out = r.stdout + r.stderr;
      assert.ok(!out.includes('\u001b'), `${args[0]}: no escape character reaches the terminal`);
      assert.ok(!out.includes('\u0007'), `${args[0]}: no bell`);
      assert.match(out, /\\x1b\[31mred/, `${args[0]}: shown escaped`);
    }
  });
});

describe('#13 build --previous with a catalog.json that is HTML or not JSON', () => {
  it('HTML (a single-page-app fallback) is no catalog; anything else that is not JSON is named with its fix', async (t) => {
    const dir = await tempDir(t);
    await cpAsync(path.resolve('images'), path.join(dir, 'images'), { recursive: true });
    let r = await runCli(['build', '--no-site', '-q', '--out', 'live'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(path.join(dir, 'live/catalog.json'), '<!doctype html><html><body>app</body></html>');
    const server = await startPreview({ dir: path.join(dir, 'live'), port: 0 });
    t.after(() => server.close());
    r = await runCli(['build', '--no-site', '-q', '--out', 'out', '--previous', server.url], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(path.join(dir, 'live/catalog.json'), '{"products": [');
    r = await runCli(['build', '--no-site', '-q', '--out', 'out2', '--previous', server.url], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /catalog\.json: is not JSON \(.*\)\n {2}fix: republish the previous tree/);
    noStack(r.stderr);
  });
});

describe('#9 a stale lock is taken over by one build only', () => {
  it('8 processes racing a lock left by a dead pid, 5 rounds: never two holders at once', async (t) => {
    const dir = await tempDir(t);
    const lockModule = pathToFileURL(path.resolve('build/generator/publish/output/lock.js')).href;
    // Each process takes the lock, holds it 150 ms, writes when it held it, and releases it.
    const script = `
      const { lockOutput } = await import(${JSON.stringify(lockModule)});
      const { appendFileSync } = await import('node:fs');
      // All start together (a barrier in time), so that they race for the stale lock.
      while (Date.now() < Number(process.argv[3]));
      try {
        const lock = await lockOutput(process.argv[1]);
        const start = Date.now();
        await new Promise((r) => setTimeout(r, 150));
        appendFileSync(process.argv[2], JSON.stringify({ pid: process.pid, start, end: Date.now() }) + '\\n');
        await lock.release();
      } catch (e) { process.exitCode = 3; }
    `;
    for (let round = 0; round < 5; round++) {
      const out = path.join(dir, `out${round}`);
      const log = path.join(dir, `held${round}.jsonl`);
      writeFileSync(log, '');
      // A pid that is not running: a child that has exited.
      const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
      writeFileSync(path.join(dir, `.out${round}.lock`), `${dead}\n`);
      const startAt = String(Date.now() + 1500);
      const runs = Array.from(
        { length: 8 },
        () => new Promise<number | null>((resolve) => spawn(process.execPath, ['--input-type=module', '-e', script, out, log, startAt]).on('close', resolve)),
      );
      const codes = await Promise.all(runs);
      const held = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { start: number; end: number });
      assert.ok(held.length >= 1, `round ${round}: someone held the lock`);
      assert.equal(held.length + codes.filter((c) => c === 3).length, 8, `round ${round}: every other process was refused (${codes.join(',')})`);
      held.sort((a, b) => a.start - b.start);
      for (let i = 1; i < held.length; i++) assert.ok(held[i]!.start >= held[i - 1]!.end, `round ${round}: two holders at once`);
    }
  });
});

describe('#6 a chain of folders each holding two symlinks to the next', () => {
  it('is walked once per folder: 40 levels end in seconds, each folder reached twice named', async (t) => {
    const dir = await tempDir(t);
    const images = path.join(dir, 'images');
    await mkdirAsync(path.join(images, 'd40'), { recursive: true });
    await put(path.join(images, 'd40/a.tar.gz'), await unifiedTarball({ os: 'chain', release: '1', serial: '20261101_00:00' }, 'x'));
    for (let i = 0; i < 40; i++) {
      await mkdirAsync(path.join(images, `d${i}`), { recursive: true });
      symlinkSync(`../d${i + 1}`, path.join(images, `d${i}`, 'a'));
      symlinkSync(`../d${i + 1}`, path.join(images, `d${i}`, 'b'));
    }
    const r = await runCli(['build', '--no-site', '-q', '--out', 'out'], { cwd: dir, timeoutMs: 60_000 });
    assert.notEqual(r.status, null, 'it ended by itself');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /d0\/b: is the same folder as d0\/a \(reached twice through symlinks\)/);
    noStack(r.stderr);
  });
});

describe('#10 a symlinked image file in a previous tree', () => {
  it('build --previous DIR and prune place the file itself, never a link leaving the output', async (t) => {
    const dir = await tempDir(t);
    await cpAsync(path.resolve('images'), path.join(dir, 'images'), { recursive: true });
    let r = await runCli(['build', '--no-site', '-q', '--out', 'prev'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    // One image file of the previous tree becomes a symlink to a copy outside it.
    const rel = Object.values(productsOf(path.join(dir, 'prev')).products)
      .flatMap((p) => Object.values(p.versions))
      .flatMap((v) => Object.values(v.items))[0]!.path;
    cpSync(path.join(dir, 'prev', rel), path.join(dir, 'elsewhere'));
    rmSync(path.join(dir, 'prev', rel));
    symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'prev', rel));
    await rmAsync(path.join(dir, 'images'), { recursive: true });
    await mkdirAsync(path.join(dir, 'images'));
    r = await runCli(['build', '--no-site', '-q', '--out', 'next', '--previous', 'prev'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(path.join(dir, 'next', rel)).isFile(), 'build --previous: a regular file');
    r = await runCli(['prune', 'prev', '--retain', '1'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(path.join(dir, 'prev', rel)).isFile(), 'prune: a regular file');
  });

  it('a symlinked image file in the images folder is published as the file it names', async (t) => {
    const dir = await tempDir(t);
    await put(path.join(dir, 'elsewhere/a.tar.gz'), await unifiedTarball({ os: 'linked', release: '1', serial: '20261101_00:00' }, 'x'));
    await mkdirAsync(path.join(dir, 'images'));
    symlinkSync(path.join(dir, 'elsewhere/a.tar.gz'), path.join(dir, 'images/a.tar.gz'));
    const r = await runCli(['build', '--no-site', '-q', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    const items = Object.values(productsOf(path.join(dir, 'out')).products).flatMap((p) => Object.values(p.versions).flatMap((v) => Object.values(v.items)));
    assert.ok(items.length > 0);
    for (const item of items) assert.ok(lstatSync(path.join(dir, 'out', item.path)).isFile(), `${item.path}: a regular file`);
  });
});

describe('#7 #15 one deadline policy for every HTTP read', () => {
  let work: string;
  let up: string;
  let upstream: Upstream;
  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-deadline-'));
    up = path.join(work, 'up');
    await build({ images: path.resolve('images'), out: up, site: false, baseUrl: 'https://upstream.example' });
    upstream = await startUpstream(up);
  });
  after(async () => {
    await upstream?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('#7 verify URL stops reading a listed file past its listed size (an endless body)', async (t) => {
    const dir = await tempDir(t);
    t.after(() => upstream.faults.clear());
    const item = Object.values(productsOf(up).products)
      .flatMap((p) => Object.values(p.versions))
      .flatMap((v) => Object.values(v.items))[0]!;
    upstream.faults.set(item.path, (_q, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(1 << 16, 7);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const r = await runCli(['verify', upstream.url], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`file ${item.path.replace(/[.]/g, '\\.')} could not be read to its end: .* sends more than the ${item.size} bytes its index lists`),
    );
  });

  it('#15 mirror cuts off a trickle that brings 16 KiB per window but less than 16 KiB/s', async (t) => {
    const dir = await tempDir(t);
    t.after(() => upstream.faults.clear());
    const rel = productsRel(up);
    const text = readFileSync(path.join(up, rel));
    // 10 KiB a second: 20 KiB per 2 s window passed the old check (16 KiB a window).
    upstream.faults.set(rel, (_q, res) => {
      res.writeHead(200, { 'content-length': String(text.length + 10 * 2 ** 20) });
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(Buffer.alloc(1024, 0x20));
      }, 100);
    });
    const started = Date.now();
    const r = await runCli(['mirror', upstream.url, '--out', 'out', '--no-site', '--timeout', '2'], { cwd: dir, timeoutMs: 120_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /less than 16 KiB\/s for 2 s \(the server stalled or trickles\)/);
    assert.ok(Date.now() - started < 60_000, `cut off in ${Date.now() - started} ms`);
  });
});

describe('#11 doctor against a server that sends a byte every 2 s', { skip: requirements(['openssl']) }, () => {
  it('ends: every request has a deadline, and the run too', async (t) => {
    const dir = await tempDir(t);
    // A self-signed certificate (doctor reports it untrusted and goes on checking).
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const timers = new Set<NodeJS.Timeout>();
    const server = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 2000);
      timers.add(timer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      server.close();
    });
    const { port } = server.address() as import('node:net').AddressInfo;
    const started = Date.now();
    const r = await runCli(['doctor', `https://127.0.0.1:${port}`, '--timeout', '1', '--json'], { cwd: dir, timeoutMs: 150_000 });
    const ms = Date.now() - started;
    assert.notEqual(r.status, null, 'doctor ended by itself');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /no complete answer within 1 s \(the server stalls or trickles\)/);
    assert.ok(ms < 60_000, `ended in ${ms} ms`);
  });
});
