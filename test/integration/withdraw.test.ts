// `staticstreams withdraw` (issue 45.4): a broken build comes off the indexes at once — aliases
// moving to the newest version left, its files kept for the grace period, a signed tree signed
// again, a dry run writing nothing — and for good: recorded in the state, so a later build of the
// same images (or on top of the tree) leaves them out; with image files on object storage too.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { put, unifiedTarball } from '../support/images.js';
import { hashTree } from '../support/tree-hash.js';
import { productsOf } from '../support/tree.js';
import { requirements } from '../support/require.js';
import { cleanupKey, gpgv, makeKey } from '../support/gpg.js';
import { startS3 } from '../support/s3.js';

const NOW = '2026-12-02T00:00:00Z';
const KEY = 'fix:1:amd64:default';

/** A tree with two versions of one product (the newer one "broken"). */
async function twoVersions(t: Parameters<typeof tempDir>[0], extra: string[] = [], env?: NodeJS.ProcessEnv) {
  const dir = await tempDir(t);
  await put(path.join(dir, 'images/good.tar.gz'), await unifiedTarball({ os: 'fix', release: '1', serial: '20261101_00:00' }, 'good'));
  await put(path.join(dir, 'images/broken.tar.gz'), await unifiedTarball({ os: 'fix', release: '1', serial: '20261120_00:00' }, 'broken'));
  const r = await runCli(['build', '--no-site', '--out', 'dist', '--now', NOW, '--base-url', 'https://images.example.org', ...extra], {
    cwd: dir,
    ...(env ? { env } : {}),
  });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

const versionsOf = (tree: string) => Object.keys(productsOf(tree).products[KEY]!.versions);
const catalogOf = (tree: string) =>
  JSON.parse(readFileSync(path.join(tree, 'catalog.json'), 'utf8')) as {
    aliasEndpoints: Record<string, string>;
    products: { key: string; versions: { version: string; images: { fingerprint: string; files: { path: string }[] }[] }[] }[];
  };

describe('staticstreams withdraw', () => {
  it('takes a version off at once (aliases to the newest left, files kept for the grace period), and keeps it out of later builds', async (t) => {
    const dir = await twoVersions(t);
    const tree = path.join(dir, 'dist');
    const broken = catalogOf(tree).products[0]!.versions.find((v) => v.version === '20261120_00:00')!;
    const dry = await runCli(['withdraw', 'dist', `${KEY}/20261120_0000`, '--dry-run', '--now', NOW, '--no-site'], { cwd: dir });
    const before = await hashTree(tree);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /would be withdrawn fix:1:amd64:default 20261120_00:00/);
    assert.equal(await hashTree(tree), before, 'a dry run writes nothing');

    const r = await runCli(['withdraw', 'dist', `${KEY}/20261120_00:00`, '--now', NOW, '--no-site', '--json'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { withdrawn: string[]; grace: { path: string; reason: string }[] };
    assert.deepEqual(summary.withdrawn, [`${KEY} 20261120_00:00`]);
    assert.deepEqual(versionsOf(tree), ['20261101_00:00'], 'unlisted at once');
    for (const f of broken.images[0]!.files) {
      assert.ok(existsSync(path.join(tree, f.path)), `${f.path} stays for the grace period`);
      assert.ok(summary.grace.some((g) => g.path === f.path && /^withdrawn: /.test(g.reason)));
    }
    assert.equal(productsOf(tree).products[KEY]!.aliases, 'fix/1/default,fix/1', 'the aliases are still there, on the version left');
    const state = JSON.parse(readFileSync(path.join(tree, 'staticstreams-state.json'), 'utf8')) as { withdrawn: { product: string; fingerprints: string[] }[] };
    assert.deepEqual(
      state.withdrawn.map((w) => [w.product, w.fingerprints]),
      [[KEY, [broken.images[0]!.fingerprint]]],
    );
    assert.equal((await runCli(['verify', 'dist'], { cwd: dir })).status, 0);

    // The same images built again (the CI job runs once more): left out, with a word.
    const again = await runCli(['build', '--no-site', '--out', 'dist', '--previous', 'dist', '--now', NOW], { cwd: dir });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /broken\.tar\.gz: left out: it is fix:1:amd64:default 20261120_00:00, withdrawn from this tree/);
    assert.deepEqual(versionsOf(tree), ['20261101_00:00']);
  });

  it('names what is wrong: an unknown version, a prefix naming several; by fingerprint it takes the version holding that image', async (t) => {
    const dir = await twoVersions(t);
    const unknown = await runCli(['withdraw', 'dist', `${KEY}/20991231_00:00`, '--no-site'], { cwd: dir });
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /withdraw fix:1:amd64:default\/20991231_00:00: the tree publishes no such version or image/);
    const fp = catalogOf(path.join(dir, 'dist')).products[0]!.versions.find((v) => v.version === '20261101_00:00')!.images[0]!.fingerprint;
    const r = await runCli(['withdraw', 'dist', fp.slice(0, 12), '--now', NOW, '--no-site'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(versionsOf(path.join(dir, 'dist')), ['20261120_00:00']);
  });

  it('a signed tree is signed again (gpgv verifies it) and needs its key', { skip: requirements(['gpg', 'gpgv']) }, async (t) => {
    const work = await tempDir(t);
    const key = makeKey(work);
    t.after(() => cleanupKey(key));
    const env = { ...process.env, STATICSTREAMS_SIGNING_KEY: key.secret };
    const dir = await twoVersions(t, [], env);
    const without = await runCli(['withdraw', 'dist', `${KEY}/20261120_00:00`, '--no-site'], {
      cwd: dir,
      env: { ...process.env, STATICSTREAMS_SIGNING_KEY: undefined },
    });
    assert.equal(without.status, 2, without.stderr);
    const r = await runCli(['withdraw', 'dist', `${KEY}/20261120_00:00`, '--now', NOW, '--no-site'], { cwd: dir, env });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(gpgv(key.keyring, path.join(dir, 'dist/streams/v1/index.sjson')).ok);
    assert.equal((await runCli(['verify', 'dist', '--keyring', key.keyring], { cwd: dir })).status, 0);
  });

  it('image files on object storage: unlisted at once, deleted from the bucket after the grace period', async (t) => {
    const s3 = await startS3();
    t.after(() => s3.stop());
    const dir = await tempDir(t);
    const settings = s3.settings({ prefix: `w${process.pid}/` });
    const yaml = `object_storage:\n${Object.entries(settings)
      .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
      .join('\n')}\n`;
    await put(path.join(dir, 'staticstreams.yaml'), yaml);
    await put(path.join(dir, 'images/good.tar.gz'), await unifiedTarball({ os: 'fix', release: '1', serial: '20261101_00:00' }, 'good'));
    await put(path.join(dir, 'images/broken.tar.gz'), await unifiedTarball({ os: 'fix', release: '1', serial: '20261120_00:00' }, 'broken'));
    assert.equal((await runCli(['build', '--no-site', '--out', 'dist', '--now', NOW], { cwd: dir })).status, 0);
    const broken = catalogOf(path.join(dir, 'dist')).products[0]!.versions.find((v) => v.version === '20261120_00:00')!.images[0]!.files[0]!.path;
    assert.ok(await s3.get(`${settings.prefix}${broken}`), 'uploaded');
    const r = await runCli(['withdraw', 'dist', `${KEY}/20261120_00:00`, '--now', NOW, '--no-site'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(versionsOf(path.join(dir, 'dist')), ['20261101_00:00']);
    assert.ok(await s3.get(`${settings.prefix}${broken}`), 'kept in the bucket for the grace period');
    const later = await runCli(['prune', 'dist', '--now', '2026-12-03T00:00:00Z', '--no-site'], { cwd: dir });
    assert.equal(later.status, 0, later.stderr);
    assert.equal(await s3.get(`${settings.prefix}${broken}`), null, 'deleted once its grace period is over');
  });
});
