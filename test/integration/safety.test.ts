// Safety through the real CLI: a build never replaces a folder or file it did not write, every
// tarball a client unpacks is proven whole (also by verify), prune without its config file
// keeps the tree's settings, a closed pipe ends quietly, and each row of the README's exit-code
// table holds.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../support/tmp.js';
import { hashTree } from '../support/tree-hash.js';
import { compress, markerRootfs, metadataYaml, tarball } from '../support/images.js';
import { type Catalog } from '../../generator/index.js';

const BIN = path.resolve('bin/staticstreams.js');
const run = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });

/** A work folder holding a copy of the sample images. */
async function workFolder(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  await cp(path.resolve('images'), path.join(dir, 'images'), { recursive: true });
  return dir;
}

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');

describe('a build never replaces what it did not write', () => {
  const refused = async (t: Parameters<typeof tempDir>[0], out: (dir: string) => Promise<string>, expect: RegExp, cwd?: (dir: string) => string) => {
    const dir = await workFolder(t);
    await mkdir(path.join(dir, 'web/sub'), { recursive: true });
    await writeFile(path.join(dir, 'web/MARKER.txt'), 'mine\n');
    await writeFile(path.join(dir, 'web/sub/file'), 'mine too\n');
    await writeFile(path.join(dir, 'a-file'), 'a regular file\n');
    const target = await out(dir);
    const before = await hashTree(dir);
    const r = run(['build', '--no-site', '-q', '--images', path.join(dir, 'images'), '--out', target], cwd?.(dir) ?? dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, expect);
    assert.match(r.stderr, /fix: /);
    noStack(r.stderr);
    assert.equal(await hashTree(dir), before, 'every file byte-identical');
  };

  it('refuses a folder of foreign files, naming some of them', (t) =>
    refused(t, async (d) => path.join(d, 'web'), /holds files staticstreams did not write \(MARKER\.txt, sub\)/));
  it('refuses the current folder', (t) =>
    refused(
      t,
      async () => '.',
      /is the current folder/,
      (d) => path.join(d, 'web'),
    ));
  it('refuses a parent of the images folder', (t) => refused(t, async (d) => d, /holds the images folder|is the current folder/));
  it('refuses a regular file', (t) => refused(t, async (d) => path.join(d, 'a-file'), /is a file, not a folder/));
  it('refuses the home folder (HOME pointed at a scratch folder)', async (t) => {
    const dir = await workFolder(t);
    const home = path.join(dir, 'home');
    await mkdir(home);
    await writeFile(path.join(home, '.profile'), 'x\n');
    const r = run(['build', '--no-site', '-q', '--out', home], dir, { HOME: home });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is your home folder/);
    assert.equal(await readFile(path.join(home, '.profile'), 'utf8'), 'x\n');
  });

  it("refuses the config file's folder", async (t) => {
    const dir = await workFolder(t);
    await mkdir(path.join(dir, 'conf'));
    await writeFile(path.join(dir, 'conf/staticstreams.yaml'), 'targets: [nginx]\n');
    const r = run(['build', '--no-site', '-q', '--config', 'conf/staticstreams.yaml', '--out', 'conf'], dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is the folder of the config file/);
  });

  it('creates missing parents, and builds again into its own output', async (t) => {
    const dir = await workFolder(t);
    const out = path.join(dir, 'deep/er/dist');
    assert.equal(run(['build', '--no-site', '-q', '--out', out], dir).status, 0);
    const again = run(['build', '--no-site', '-q', '--out', out], dir);
    assert.equal(again.status, 0, again.stderr);
    assert.ok((await stat(path.join(out, 'streams/v1/index.json'))).isFile());
  });

  it('never overwrites a server config file it did not write', async (t) => {
    const dir = await workFolder(t);
    await mkdir(path.join(dir, 'srv'));
    await writeFile(path.join(dir, 'srv/nginx-server.conf'), '# my own nginx config\n');
    const r = run(['build', '--no-site', '-q', '--target', 'nginx', '--server-config', 'srv'], dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /srv\/nginx-server\.conf was not written by staticstreams/);
    assert.equal(await readFile(path.join(dir, 'srv/nginx-server.conf'), 'utf8'), '# my own nginx config\n');
    await assert.rejects(stat(path.join(dir, 'dist')), 'nothing was built');
    // its own files are replaced
    const own = run(['build', '--no-site', '-q', '--target', 'nginx', '--server-config', 'srv2'], dir);
    assert.equal(own.status, 0, own.stderr);
    assert.equal(run(['build', '--no-site', '-q', '--target', 'nginx', '--server-config', 'srv2'], dir).status, 0);
  });
});

describe('verify proves published tarballs whole', () => {
  it('fails on a file truncated in place, and on a cut file whose index was made from it (unless --quick)', async (t) => {
    const dir = await workFolder(t);
    assert.equal(run(['build', '--no-site', '-q'], dir).status, 0);
    const catalog = JSON.parse(await readFile(path.join(dir, 'dist/catalog.json'), 'utf8')) as Catalog;
    const unified = catalog.products.flatMap((p) => p.versions.flatMap((v) => v.images)).find((i) => i.files.length === 1)!;
    const file = path.join(dir, 'dist', unified.files[0]!.path);
    await truncate(file, Math.floor(unified.files[0]!.size / 2));
    const cut = run(['verify', 'dist'], dir);
    assert.equal(cut.status, 1);
    assert.match(cut.stdout, /is \d+ bytes, the index says/);

    // A tool that indexed the cut file: sizes and sha256 agree, only the deep check sees it.
    const { createHash } = await import('node:crypto');
    const bytes = await readFile(file);
    const productsPath = path.join(dir, 'dist', catalog.streams.products);
    const products = (await readFile(productsPath, 'utf8'))
      .replaceAll(unified.files[0]!.sha256, createHash('sha256').update(bytes).digest('hex'))
      .replaceAll(`"size": ${unified.files[0]!.size}`, `"size": ${bytes.length}`);
    await writeFile(productsPath, products);
    const deep = run(['verify', 'dist'], dir);
    assert.equal(deep.status, 1, deep.stdout);
    assert.match(
      deep.stdout,
      /is cut short or corrupt after \d+ bytes: the gzip stream does not unpack to its end.*clients list it but fail when they unpack it/,
    );
    const quick = run(['verify', '--quick', 'dist'], dir);
    assert.doesNotMatch(quick.stdout, /cut short/);
  });
});

describe('prune without the config file (a cron job)', () => {
  it('keeps the title, logo, remote name, targets and base URL the tree was built with, and says so', async (t) => {
    const dir = await workFolder(t);
    await mkdir(path.join(dir, 'repo'));
    await cp(path.join(dir, 'images'), path.join(dir, 'repo/images'), { recursive: true });
    await writeFile(path.join(dir, 'repo/logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
    await writeFile(
      path.join(dir, 'repo/staticstreams.yaml'),
      'targets: [netlify, nginx]\nsite:\n  title: Recorded Title Images\n  logo: logo.svg\n  remote_name: recorded\n',
    );
    const b = run(['build', '-q', '--out', '../www', '--base-url', 'https://img.example.org'], path.join(dir, 'repo'));
    assert.equal(b.status, 0, b.stderr);
    const p = run(['prune', 'www', '--retain', '1'], dir);
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stderr, /using the settings www was built with/);
    const html = await readFile(path.join(dir, 'www/index.html'), 'utf8');
    assert.match(html, /<title>Recorded Title Images/);
    assert.match(html, /lxc remote add recorded https:\/\/img\.example\.org/);
    assert.ok((await stat(path.join(dir, 'www/logo.svg'))).isFile());
    assert.ok((await stat(path.join(dir, 'www-server-config/nginx-server.conf'))).isFile());
    assert.equal((JSON.parse(await readFile(path.join(dir, 'www/catalog.json'), 'utf8')) as Catalog).baseUrl, 'https://img.example.org');
  });
});

describe('the command line', () => {
  it('ends quietly on a closed pipe', async (t) => {
    const dir = await workFolder(t);
    assert.equal(run(['build', '--no-site', '-q'], dir).status, 0);
    const child = spawn(process.execPath, [BIN, 'list', 'dist', '--format', 'json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader went away (`| head` after its lines)
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|at .*:\d+:\d+/);
  });

  it('warns when a product loses its last VM image through --replace', async (t) => {
    const dir = await workFolder(t);
    const yaml = (o: Parameters<typeof metadataYaml>[0]) => metadataYaml({ os: 'lose', release: '1', serial: '20261101_12:00', ...o });
    await mkdir(path.join(dir, 'v1/u'), { recursive: true });
    await mkdir(path.join(dir, 'v2/u'), { recursive: true });
    const vm = await tarball([
      { name: 'metadata.yaml', content: yaml({}) },
      { name: 'rootfs.img', content: Buffer.from('QFI\xfb'.padEnd(1024, '\0'), 'latin1') },
    ]);
    await writeFile(path.join(dir, 'v1/u/vm.tar.gz'), compress(vm, 'gzip'));
    const ct = await tarball([{ name: 'metadata.yaml', content: yaml({}) }, { name: 'rootfs/' }, ...markerRootfs('c', 'rootfs/')]);
    await writeFile(path.join(dir, 'v2/u/ct.tar.gz'), compress(ct, 'gzip'));
    assert.equal(run(['build', '--no-site', '-q', '--images', 'v1', '--out', 'pub'], dir).status, 0);
    const r = run(['build', '--no-site', '--json', '--images', 'v2', '--previous', 'pub', '--replace', '--out', 'pub'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /lose:1:amd64:default no longer has a virtual-machine image/);
    assert.ok((JSON.parse(r.stdout) as { warnings: string[] }).warnings.some((w) => /no longer has a virtual-machine image/.test(w)));
  });

  // The README's exit-code table, one row at a time, for each command it names.
  it('exits as the README says', async (t) => {
    const dir = await workFolder(t);
    const readme = await readFile(path.resolve('README.md'), 'utf8');
    assert.match(readme, /\| 0 \| success/);
    assert.equal(run(['build', '--no-site', '-q'], dir).status, 0, 'build: success');
    assert.equal(run(['verify', 'dist'], dir).status, 0, 'verify: success');
    assert.equal(run(['list', 'dist'], dir).status, 0, 'list: success');
    assert.equal(run(['prune', 'dist'], dir).status, 0, 'prune: success');
    // 1: invalid input, a failed check, an unreachable or broken previous tree
    await mkdir(path.join(dir, 'bad'));
    await writeFile(path.join(dir, 'bad/x.tar.gz'), 'not an image');
    assert.equal(run(['build', '--no-site', '-q', '--images', 'bad', '--out', 'o1'], dir).status, 1, 'build: a bad image');
    assert.equal(run(['build', '--no-site', '-q', '--previous', 'https://127.0.0.1:9', '--out', 'o2'], dir).status, 1, 'build: unreachable --previous');
    assert.equal(run(['build', '--no-site', '-q', '--previous', 'images', '--out', 'o3'], dir).status, 1, 'build: --previous is no tree');
    await writeFile(path.join(dir, 'dist/streams/v1/index.json'), '{}');
    assert.equal(run(['verify', 'dist'], dir).status, 1, 'verify: a failed check');
    assert.equal(run(['list', 'dist'], dir).status, 1, 'list: an unreadable tree');
    // 2: wrong usage, a missing folder, a bad config file, an output that is not ours
    assert.equal(run(['build', '--bogus'], dir).status, 2);
    assert.equal(run(['verify', 'missing'], dir).status, 2, 'verify: a missing folder');
    assert.equal(run(['list', 'missing'], dir).status, 2, 'list: a missing folder');
    assert.equal(run(['prune', 'missing'], dir).status, 1, 'prune: a folder that holds no tree is invalid input');
    await writeFile(path.join(dir, 'bad.yaml'), 'site:\n  logo: nowhere.svg\n');
    assert.equal(run(['build', '--no-site', '-q', '--config', 'bad.yaml', '--out', 'o4'], dir).status, 2, 'build: a missing logo');
    await writeFile(path.join(dir, 'typo.yaml'), 'targts: [nginx]\n');
    assert.equal(run(['build', '--no-site', '-q', '--config', 'typo.yaml', '--out', 'o5'], dir).status, 2, 'build: an unknown config key');
    assert.equal(run(['build', '--no-site', '-q', '--out', 'images'], dir).status, 2, 'build: --out is the images folder');
  });
});
