import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../support/tmp.js';
import { hashTree } from '../support/tree-hash.js';
import { startPreview, verifyTree, listTree, type Catalog } from '../../generator/index.js';

const BIN = path.resolve('bin/staticstreams.js');
const run = (args: string[], cwd = process.cwd()) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });

describe('the staticstreams command', () => {
  it('prints help and exits 0', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: staticstreams/);
    assert.match(r.stdout, /build/);
    assert.match(r.stdout, /verify/);
    assert.match(r.stdout, /Exit codes/);
  });

  it('exits 2 on wrong usage', () => {
    assert.equal(run(['build', '--bogus']).status, 2);
    assert.equal(run(['frobnicate']).status, 2);
    const r = run(['build', '--images', '/nonexistent-folder']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /the images folder \/nonexistent-folder does not exist/);
    assert.equal(run(['build', '--base-url', 'not a url']).status, 2);
    assert.equal(run(['list', '--format', 'xml']).status, 2);
  });

  it('builds, lists and verifies the samples; --json prints a summary', async (t) => {
    const dir = await tempDir(t);
    await cp(path.resolve('images'), path.join(dir, 'images'), { recursive: true });
    const r = run(['build', '--json'], dir);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.ok, true);
    assert.equal(summary.products, 5);
    assert.equal(summary.images, 6);
    const list = run(['list', 'dist', '--format', 'json'], dir);
    assert.equal(list.status, 0);
    assert.equal(JSON.parse(list.stdout).length, 6);
    const verify = run(['verify'], dir);
    assert.equal(verify.status, 0, verify.stdout);
    assert.match(verify.stdout, /^ok: 5 products, 6 images/m);
  });

  it('exits 1 with file, problem and fix — no stack trace — and publishes nothing', async (t) => {
    const dir = await tempDir(t);
    await cp(path.resolve('images'), path.join(dir, 'images'), { recursive: true });
    assert.equal(run(['build', '-q'], dir).status, 0);
    const before = await hashTree(path.join(dir, 'dist'));
    await writeFile(path.join(dir, 'images/broken.tar.xz'), 'definitely not xz');
    const r = run(['build'], dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: broken.tar.xz: is not a tarball, squashfs or qcow2 file/);
    assert.match(r.stderr, /fix: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await hashTree(path.join(dir, 'dist')), before);
    // --json carries every problem too, as the human output has them.
    await writeFile(path.join(dir, 'images/broken2.tar.gz'), 'not gzip either');
    const j = run(['build', '--json'], dir);
    assert.equal(j.status, 1);
    const failed = JSON.parse(j.stdout) as { ok: boolean; error: string; problems: { file?: string; problem: string; fix: string }[] };
    assert.equal(failed.ok, false);
    assert.deepEqual(failed.problems.map((p) => p.file).sort(), ['broken.tar.xz', 'broken2.tar.gz']);
    assert.ok(failed.problems.every((p) => p.problem && p.fix));
    assert.equal(await hashTree(path.join(dir, 'dist')), before);
  });

  it('says when it applies a staticstreams.yaml found in the current folder; list takes --json like the other commands', async (t) => {
    const dir = await tempDir(t);
    await cp(path.resolve('images'), path.join(dir, 'images'), { recursive: true });
    await writeFile(path.join(dir, 'staticstreams.yaml'), 'site: { title: Mine }\n');
    const r = run(['build', '--no-site'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`note: using ${path.join(dir, 'staticstreams.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(found in the current folder`),
    );
    assert.equal(run(['list', '--json'], dir).stdout, run(['list', '--format', 'json'], dir).stdout);
    assert.ok((JSON.parse(run(['list', '--json'], dir).stdout) as unknown[]).length > 0);
  });

  it('verify and list read a live server too, fetching every file as a client would', async (t) => {
    const dir = await tempDir(t);
    await cp(path.resolve('images'), path.join(dir, 'images'), { recursive: true });
    assert.equal(run(['build', '-q', '--no-site'], dir).status, 0);
    const server = await startPreview({ dir: path.join(dir, 'dist'), port: 0 });
    t.after(() => server.close());
    const report = await verifyTree(server.url);
    assert.deepEqual(
      report.problems.filter((p) => p.severity === 'error'),
      [],
    );
    assert.deepEqual([report.products, report.images], [5, 6]);
    assert.equal((await listTree(server.url)).rows.length, 6);
    // A file the server answers with other bytes is an error, as it would be for a client.
    const catalog = JSON.parse(await readFile(path.join(dir, 'dist/catalog.json'), 'utf8')) as Catalog;
    const file = catalog.products[0]!.versions[0]!.images[0]!.files[0]!;
    await rm(path.join(dir, 'dist', file.path));
    await writeFile(path.join(dir, 'dist', file.path), 'other bytes');
    const broken = await verifyTree(server.url);
    assert.ok(
      broken.problems.some((p) => p.severity === 'error' && p.message.includes(`${file.path} is 11 bytes`)),
      JSON.stringify(broken.problems),
    );
    await rm(path.join(dir, 'dist', file.path));
    assert.ok((await verifyTree(server.url)).problems.some((p) => p.message === `file ${file.path} is missing`));
    const unreachable = await verifyTree('http://127.0.0.1:9');
    assert.match(unreachable.problems[0]!.message, /cannot be read: cannot read http:\/\/127\.0\.0\.1:9\/streams\/v1\/index\.json/);
  });

  it('verify exits 1 on a broken tree', async (t) => {
    const dir = await tempDir(t);
    const r = run(['verify', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAILED/);
  });
});
