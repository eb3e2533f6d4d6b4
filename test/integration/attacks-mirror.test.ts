// The second adversarial review (issue 40), mirror, promote and LXC's files: each attack as an
// untrusted upstream, a hostile image or whoever can plant a link next to the output would make
// it, and each failed on the code before its fix. LXC's host configuration never comes from an
// upstream; a squashfs bomb is cut off in seconds; scratch folders are never followed through a
// link; promote never swaps what stable publishes; two sources never share a path; a filter that
// selects nothing fails; LXC's root tarball never names a path outside it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, runCliPeak, BIN } from '../support/cli.js';
import { requirements } from '../support/require.js';
import { startUpstream } from '../support/upstream-server.js';
import { hashTree } from '../support/tree-hash.js';
import { tempDir } from '../support/tmp.js';
import { compress, metadataTarball, metadataYaml, put, tarball, unifiedTarball, type TarEntry } from '../support/images.js';
import { productsOf, productsPath } from '../support/tree.js';

const IMAGES = path.resolve('images');
const lxcSkip = requirements(['mksquashfs', 'sqfs2tar', 'xz']);

/** Replaces the file at `at` with `bytes`, and what the products file says of it (a hostile upstream is consistent). */
function replaceFile(tree: string, at: string, bytes: Buffer): void {
  const rel = productsPath(tree);
  const doc = productsOf(tree);
  const items = Object.values(doc.products).flatMap((p) => Object.values(p.versions).flatMap((v) => Object.values(v.items)));
  writeFileSync(path.join(tree, at), bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  for (const i of items) if (i.path === at) Object.assign(i, { sha256, size: bytes.length });
  writeFileSync(path.join(tree, rel), JSON.stringify(doc));
}

/** The LXC files of a version whose root tarball is LXC's own (not an image's): meta.tar.xz and rootfs.tar.xz paths. */
function lxcPair(tree: string): { meta: string; rootfs: string } {
  for (const p of Object.values(productsOf(tree).products))
    for (const v of Object.values(p.versions)) {
      const items = Object.values(v.items);
      const rootfs = items.find((i) => i.ftype === 'lxc.rootfs.tar.xz');
      const meta = items.find((i) => i.ftype === 'lxc.meta.tar.xz');
      if (rootfs && meta) return { meta: meta.path, rootfs: rootfs.path };
    }
  throw new Error('no version with LXC files of its own');
}

const META_FILES = (over: Record<string, string>): TarEntry[] =>
  Object.entries({
    config: 'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.arch = x86_64\n',
    'config-user': 'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.include = LXC_TEMPLATE_CONFIG/userns.conf\nlxc.arch = x86_64\n',
    'create-message': 'You just created a container.\n',
    'excludes-user': './dev/*\n',
    templates: '/etc/hostname\n',
    ...over,
  }).map(([name, content]) => ({ name, content }));

describe('40.4 a mirror passes no upstream LXC host configuration on', { skip: lxcSkip }, () => {
  const cases: [string, Record<string, string>, TarEntry[] | null, RegExp][] = [
    [
      'a hook that runs on the host',
      { config: 'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.hook.pre-start = /bin/sh -c "touch /tmp/pwned"\n' },
      null,
      /config.*lxc\.hook\.pre-start/,
    ],
    ['a bind mount of the host root', { 'config-user': 'lxc.mount.entry = / host none bind 0 0\nlxc.arch = x86_64\n' }, null, /config-user.*lxc\.mount\.entry/],
    ['a create-message with terminal escapes', { 'create-message': 'hello \u001b]0;owned\u0007\n' }, null, /create-message.*control character/],
    [
      'a templated path that is a symbolic link in the root tarball',
      {},
      [{ name: './' }, { name: './etc/' }, { name: './etc/hostname', type: 'symlink', linkname: '/etc/shadow' }],
      /templates.*\/etc\/hostname.*not a regular file/,
    ],
    [
      'a templated path under a folder that is a symbolic link',
      {},
      [{ name: './' }, { name: './etc', type: 'symlink', linkname: '/etc' }],
      /templates.*\/etc\/hostname.*not a regular file/,
    ],
  ];
  for (const [name, over, rootfs, message] of cases) {
    it(`${name}: refused with exit 1, nothing written`, async (t) => {
      const work = await tempDir(t);
      const up = path.join(work, 'up');
      assert.equal((await runCli(['build', '--images', IMAGES, '--out', up, '--no-site', '--lxc'], { cwd: work })).status, 0);
      const pair = lxcPair(up);
      replaceFile(up, pair.meta, compress(await tarball(META_FILES(over)), 'xz'));
      if (rootfs) replaceFile(up, pair.rootfs, compress(await tarball(rootfs), 'xz'));
      const upstream = await startUpstream(up);
      t.after(() => upstream.stop());
      const out = path.join(work, 'mirror');
      const r = await runCli(['mirror', upstream.url, '--out', out, '--no-site'], { cwd: work });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /meta\.tar\.xz|rootfs\.tar\.xz/);
      assert.match(r.stderr.replace(/\n\s*/g, ' '), message);
      assert.ok(!existsSync(out));
    });
  }
  it("an upstream's safe LXC files (ours, distrobuilder's shape) are still mirrored", async (t) => {
    const work = await tempDir(t);
    const up = path.join(work, 'up');
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', up, '--no-site', '--lxc'], { cwd: work })).status, 0);
    replaceFile(
      up,
      lxcPair(up).meta,
      compress(
        await tarball(
          META_FILES({
            config: '# distrobuilder\nlxc.include = LXC_TEMPLATE_CONFIG/debian.common.conf\nlxc.arch = x86_64\n',
            expiry: '1798761600\n',
            templates: '',
          }),
        ),
        'xz',
      ),
    );
    const upstream = await startUpstream(up);
    t.after(() => upstream.stop());
    const r = await runCli(['mirror', upstream.url, '--out', path.join(work, 'mirror'), '--no-site'], { cwd: work });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('40.5 --lxc and a squashfs bomb', { skip: requirements(['mksquashfs', 'sqfs2tar', 'xz', 'truncate']) }, () => {
  it('a small squashfs holding a 4 GiB sparse file is refused within seconds as a bomb; nothing left behind', async (t) => {
    const work = await tempDir(t);
    const root = path.join(work, 'root');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    execFileSync('truncate', ['-s', '4G', path.join(root, 'sparse')]);
    await put(path.join(work, 'images/b/lxd.tar.xz'), await metadataTarball({ os: 'bomb', release: '1', serial: '20261101_00:00' }));
    execFileSync('mksquashfs', [root, path.join(work, 'images/b/rootfs.squashfs'), '-noappend', '-comp', 'xz', '-quiet', '-no-progress']);
    const size = readFileSync(path.join(work, 'images/b/rootfs.squashfs')).length;
    const r = await runCliPeak(['build', '--out', 'out', '--no-site', '--lxc', '-q'], { cwd: work, timeoutMs: 120_000 });
    t.diagnostic(`squashfs ${size} bytes: exit ${r.status} in ${r.ms} ms, peak ${r.peakMiB} MiB`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /decompression bomb/);
    assert.ok(r.ms < 60_000, `refused in ${r.ms} ms`);
    const left = readdirSync(work, { recursive: true }) as string[];
    assert.ok(!left.some((f) => /\.partial-/.test(f)), left.join('\n'));
  });

  it('SIGTERM while LXC files are made leaves no half-made folder', async (t) => {
    const work = await tempDir(t);
    const root = path.join(work, 'root');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'noise'), execFileSync('head', ['-c', String(96 * 2 ** 20), '/dev/urandom'], { maxBuffer: 2 ** 28 }));
    await put(path.join(work, 'images/n/lxd.tar.xz'), await metadataTarball({ os: 'noise', release: '1', serial: '20261101_00:00' }));
    execFileSync('mksquashfs', [root, path.join(work, 'images/n/rootfs.squashfs'), '-noappend', '-comp', 'gzip', '-quiet', '-no-progress']);
    const child = spawn(process.execPath, [BIN, 'build', '--out', 'out', '--no-site', '--lxc', '-q'], { cwd: work, stdio: 'ignore' });
    const derived = path.join(work, '.out.derived');
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      if (existsSync(derived) && readdirSync(derived).some((f) => f.includes('.partial-'))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 143);
    const left = existsSync(derived) ? readdirSync(derived) : [];
    assert.ok(!left.some((f) => f.includes('.partial-')), left.join());
  });
});

describe('40.6 scratch folders next to the output are never followed through a link', () => {
  it('a .OUT.derived link: nothing of its target is deleted', { skip: lxcSkip }, async (t) => {
    const work = await tempDir(t);
    const victim = path.join(work, 'victim');
    mkdirSync(victim);
    writeFileSync(path.join(victim, 'precious'), 'mine\n');
    symlinkSync(victim, path.join(work, '.out.derived'));
    const r = await runCli(['build', '--images', IMAGES, '--out', 'out', '--no-site', '--lxc'], { cwd: work });
    assert.equal(readFileSync(path.join(victim, 'precious'), 'utf8'), 'mine\n', r.stderr);
    assert.ok(r.status === 2 || r.status === 0, r.stderr);
    if (r.status === 2) assert.match(r.stderr, /\.out\.derived.*symbolic link/);
  });

  it('a planted .OUT.downloads/<sha256>.part link: the upstream bytes never reach its target', async (t) => {
    const work = await tempDir(t);
    const up = path.join(work, 'up');
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', up, '--no-site'], { cwd: work })).status, 0);
    const upstream = await startUpstream(up);
    t.after(() => upstream.stop());
    const victim = path.join(work, 'victim.txt');
    writeFileSync(victim, 'mine\n');
    const downloads = path.join(work, '.out.downloads');
    mkdirSync(downloads);
    const items = Object.values(productsOf(up).products).flatMap((p) => Object.values(p.versions).flatMap((v) => Object.values(v.items)));
    for (const i of items) {
      if (!existsSync(path.join(downloads, `${i.sha256}.part`))) symlinkSync(victim, path.join(downloads, `${i.sha256}.part`));
    }
    const r = await runCli(['mirror', upstream.url, '--out', 'out', '--no-site'], { cwd: work });
    assert.equal(readFileSync(victim, 'utf8'), 'mine\n', r.stderr);
  });
});

describe('40.10 / 40.16 promote', () => {
  it('never swaps the images behind a version key stable publishes without --replace', async (t) => {
    const work = await tempDir(t);
    const images = path.join(work, 'images');
    mkdirSync(images);
    await put(path.join(images, 'p.tar.gz'), await unifiedTarball({ os: 'promo', release: '1', serial: '20261201_03:00' }, 'first'));
    const daily = path.join(work, 'daily');
    assert.equal((await runCli(['build', '--images', images, '--out', daily, '--no-site'], { cwd: work })).status, 0);
    const upstream = await startUpstream(daily);
    t.after(() => upstream.stop());
    const stable = path.join(work, 'stable');
    const first = await runCli(['promote', upstream.url, '--out', stable, '--no-site', '--filter', 'version=20261201_0300'], { cwd: work });
    assert.equal(first.status, 0, first.stderr);
    assert.equal(Object.keys(Object.values(productsOf(stable).products)[0]!.versions).length, 1, 'version=…_0300 selects the key …_03:00');
    // daily rebuilt under the same key with other bytes
    await put(path.join(images, 'p.tar.gz'), await unifiedTarball({ os: 'promo', release: '1', serial: '20261201_03:00' }, 'second'));
    assert.equal((await runCli(['build', '--images', images, '--out', daily, '--no-site'], { cwd: work })).status, 0);
    const before = await hashTree(stable);
    const again = await runCli(['promote', upstream.url, '--out', stable, '--no-site'], { cwd: work });
    assert.equal(again.status, 1, again.stderr);
    assert.match(again.stderr, /--replace/);
    assert.equal(await hashTree(stable), before);
    const replaced = await runCli(['promote', upstream.url, '--out', stable, '--no-site', '--replace'], { cwd: work });
    assert.equal(replaced.status, 0, replaced.stderr);
    // a filter that selects nothing: a release job must not report success
    const none = await runCli(['promote', upstream.url, '--out', stable, '--no-site', '--filter', 'version=20991231_0000'], { cwd: work });
    assert.equal(none.status, 1, none.stderr);
    assert.match(none.stderr, /select/);
  });
});

describe('40.13 one path, one file across every upstream', () => {
  it("an upstream listing its image at another upstream's path is refused naming both", async (t) => {
    const work = await tempDir(t);
    const a = path.join(work, 'a');
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', a, '--no-site'], { cwd: work })).status, 0);
    const bImages = path.join(work, 'b-images');
    await put(path.join(bImages, 'b.tar.gz'), await unifiedTarball({ os: 'bee', release: '1', serial: '20261101_00:00' }, 'bee'));
    const b = path.join(work, 'b');
    assert.equal((await runCli(['build', '--images', bImages, '--out', b, '--no-site'], { cwd: work })).status, 0);
    // B moves its image to the path of one of A's
    const aItem = Object.values(productsOf(a).products)
      .flatMap((p) => Object.values(p.versions).flatMap((v) => Object.values(v.items)))
      .find((i) => i.ftype === 'incus_combined.tar.gz' || i.ftype === 'lxd_combined.tar.gz')!;
    const doc = productsOf(b);
    const bItem = Object.values(doc.products).flatMap((p) => Object.values(p.versions).flatMap((v) => Object.values(v.items)));
    mkdirSync(path.dirname(path.join(b, aItem.path)), { recursive: true });
    renameSync(path.join(b, bItem[0]!.path), path.join(b, aItem.path));
    for (const i of bItem) i.path = aItem.path;
    writeFileSync(path.join(b, productsPath(b)), JSON.stringify(doc));
    const [ua, ub] = [await startUpstream(a), await startUpstream(b)];
    t.after(() => Promise.all([ua.stop(), ub.stop()]));
    const r = await runCli(['mirror', ua.url, ub.url, '--out', 'out', '--no-site'], { cwd: work });
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(aItem.path), r.stderr);
    assert.match(r.stderr, /twice|two/);
    assert.ok(!existsSync(path.join(work, 'out')));
  });
});

describe("40 (also) LXC's root tarball never names a path outside it", { skip: lxcSkip }, () => {
  const header = (name: string, type: string, size: number) => {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
    h.write('15000000000\0', 136, 'latin1');
    h.write(type, 156, 'latin1');
    h.write('ustar\0' + '00', 257, 'latin1');
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    return h;
  };
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
  const record = (key: string, value: string) => {
    const body = ` ${key}=${value}\n`;
    let n = body.length + 2;
    while (`${n}${body}`.length !== n) n++;
    return `${n}${body}`;
  };
  const cases: [string, () => Promise<[string, Buffer]>][] = [
    [
      'a unified tarball with rootfs/../ in a member name',
      async () => [
        'u.tar.gz',
        compress(
          await tarball([
            { name: 'metadata.yaml', content: metadataYaml({ os: 'dots', release: '1', serial: '20261101_00:00' }) },
            { name: 'rootfs/' },
            { name: 'rootfs/../../escape', content: 'x' },
          ]),
          'gzip',
        ),
      ],
    ],
    [
      'a split root tarball with ../ in a member name',
      async () => ['r/rootfs.tar.xz', compress(await tarball([{ name: './' }, { name: './../escape', content: 'x' }]), 'xz')],
    ],
    [
      "a Solaris 'X' extended header naming ../ (GNU tar reads it as pax)",
      async () => {
        const records = Buffer.from(record('path', 'rootfs/../../escape'));
        const raw = Buffer.concat([
          header('metadata.yaml', '0', Buffer.byteLength(metadataYaml({ os: 'solaris', release: '1', serial: '20261101_00:00' }))),
          pad(Buffer.from(metadataYaml({ os: 'solaris', release: '1', serial: '20261101_00:00' }))),
          header('rootfs/', '5', 0),
          header('PaxHeaders/x', 'X', records.length),
          pad(records),
          header('rootfs/innocent', '0', 2),
          pad(Buffer.from('x\n')),
          Buffer.alloc(1024),
        ]);
        return ['x.tar.gz', compress(raw, 'gzip')];
      },
    ],
  ];
  for (const [name, make] of cases) {
    it(`${name}: build --lxc refuses it naming the member`, async (t) => {
      const work = await tempDir(t);
      const [rel, bytes] = await make();
      await put(path.join(work, 'images', rel), bytes);
      if (rel.startsWith('r/'))
        await put(path.join(work, 'images/r/lxd.tar.xz'), await metadataTarball({ os: 'split', release: '1', serial: '20261101_00:00' }));
      const r = await runCli(['build', '--out', 'out', '--no-site', '--lxc'], { cwd: work });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /escape/);
      assert.match(r.stderr, /outside/);
    });
  }
});

describe("40 (also) verify DIR follows a tree's _redirects only to its recorded public URL", () => {
  it('a foreign tree whose _redirects send /images/ to another address: not fetched', async (t) => {
    const work = await tempDir(t);
    const tree = path.join(work, 'tree');
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', tree, '--no-site'], { cwd: work })).status, 0);
    const elsewhere = await startUpstream(tree);
    t.after(() => elsewhere.stop());
    // the files move out; _redirects points at a server the tree never named
    const moved = path.join(work, 'moved-images');
    cpSync(path.join(tree, 'images'), moved, { recursive: true });
    execFileSync('rm', ['-rf', path.join(tree, 'images')]);
    writeFileSync(path.join(tree, '_redirects'), `/images/*  ${elsewhere.url.replace(/\/$/, '')}/images/:splat  302\n`);
    const r = await runCli(['verify', tree], { cwd: work });
    assert.equal(r.status, 1, r.stdout);
    assert.equal(elsewhere.log.length, 0, `requests made: ${elsewhere.log.map((l) => l.path).join(', ')}`);
  });
});
