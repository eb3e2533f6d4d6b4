// Publishing on top of a live tree, through the library and the CLI: --previous as a folder and
// as a URL (served by the preview server), no-op republishing, --replace, retention with a
// grace period driven by --now, prune and its dry run, and failures that publish nothing.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { put, unifiedTarball } from '../support/images.js';
import { tempDir } from '../support/tmp.js';
import { build, type Catalog, startPreview } from '../../generator/index.js';

const BIN = path.resolve('bin/staticstreams.js');

/** One unified image of alpine 3.20 built on its serial's day, in its own folder, as a CI runner would have it. */
async function runner(root: string, serial: string, marker = serial): Promise<string> {
  const dir = path.join(root, `runner-${serial}-${marker}`);
  const creationDate = Date.UTC(Number(serial.slice(0, 4)), Number(serial.slice(4, 6)) - 1, Number(serial.slice(6, 8))) / 1000;
  await put(
    path.join(dir, 'image.tar.gz'),
    await unifiedTarball({ os: 'alpine', release: '3.20', serial, creationDate, description: `build ${serial}` }, marker),
  );
  return dir;
}

const catalogOf = (out: string) => JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')) as Catalog;
const versionsOf = (out: string) => catalogOf(out).products.flatMap((p) => p.versions.map((v) => v.version));
const fileSha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const stateOf = (out: string) => JSON.parse(readFileSync(path.join(out, 'staticstreams-state.json'), 'utf8')) as { grace: { path: string; since: string }[] };

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
}

describe('build --previous', () => {
  it('publishes a new version next to the live ones, from a runner that has only the new image (folder)', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    await build({ images: await runner(dir, '20261101_00:00'), out: live, site: false, now: new Date('2026-11-01T12:00:00Z') });
    const v1 = catalogOf(live).products[0]!.versions[0]!.images[0]!;
    const out = path.join(dir, 'next');
    const result = await build({ images: await runner(dir, '20261110_00:00'), previous: live, out, site: false, now: new Date('2026-11-10T12:00:00Z') });
    assert.deepEqual(versionsOf(out), ['20261110_00:00', '20261101_00:00']);
    assert.deepEqual(result.lifecycle.added, ['alpine:3.20:amd64:default 20261110_00:00']);
    const file = path.join(out, v1.files[0]!.path);
    assert.equal(fileSha(file), v1.files[0]!.sha256, 'version 1 is still there, byte for byte');
    const catalog = catalogOf(out);
    assert.equal(catalog.products[0]!.versions[1]!.images[0]!.description, 'build 20261101_00:00', 'details come back from the previous catalog');
    assert.deepEqual(catalog.products[0]!.aliases, ['alpine/3.20/default', 'alpine/3.20']);
    // The old products file stays for the grace period.
    const old = catalogOf(live).streams.products;
    assert.ok(existsSync(path.join(out, old)));
    assert.deepEqual(
      stateOf(out).grace.map((g) => [g.path, g.since]),
      [[old, '2026-11-10T12:00:00.000Z']],
    );
  });

  it('reads the previous tree from its URL and downloads what the runner lacks, checking sha256', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    await build({ images: await runner(dir, '20261101_00:00'), out: live, site: false });
    const server = await startPreview({ dir: live, port: 0 });
    t.after(() => server.close());
    const out = path.join(dir, 'next');
    const result = await build({ images: await runner(dir, '20261110_00:00'), previous: server.url, out, site: false });
    assert.deepEqual(versionsOf(out), ['20261110_00:00', '20261101_00:00']);
    assert.equal(result.placed.downloaded, 2, 'the version 1 image and the superseded products file');

    // A file on the server that does not match what the index says: nothing is published. (Into
    // `out` it is not even downloaded: `out` holds the listed bytes, which are linked from there.)
    const v1 = catalogOf(live).products[0]!.versions[0]!.images[0]!.files[0]!;
    await rm(path.join(live, v1.path));
    await writeFile(path.join(live, v1.path), 'not the image');
    const reused = await build({ images: await runner(dir, '20261120_00:00'), previous: server.url, out, site: false });
    assert.equal(reused.placed.downloaded, 0, 'out holds version 1 and the superseded products file already');
    assert.equal(fileSha(path.join(out, v1.path)), v1.sha256);
    const fresh = path.join(dir, 'fresh');
    await assert.rejects(
      build({ images: await runner(dir, '20261120_00:00'), previous: server.url, out: fresh, site: false }),
      /: is 13 bytes, the previous tree lists \d+: the file was changed or is corrupt, and was not kept/,
    );
    assert.equal(existsSync(fresh), false, 'nothing published');
  });

  it('is a no-op for an image already published, refuses another image under its version, and replaces with --replace', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    const v1 = await runner(dir, '20261101_00:00');
    await build({ images: v1, out: live, site: false });
    const streams = readFileSync(path.join(live, catalogOf(live).streams.products), 'utf8');
    const again = await build({ images: v1, previous: live, out: live, site: false });
    assert.deepEqual(again.lifecycle.unchanged, ['alpine:3.20:amd64:default 20261101_00:00']);
    assert.equal(readFileSync(path.join(live, catalogOf(live).streams.products), 'utf8'), streams, 'byte-identical products file');

    const other = await runner(dir, '20261101_00:00', 'another');
    const refused = cli(['build', '--images', other, '--previous', live, '--out', live, '--no-site']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /version 20261101_00:00 is already published with other images[\s\S]*fix: .*--replace/);
    assert.equal(readFileSync(path.join(live, catalogOf(live).streams.products), 'utf8'), streams, 'nothing was published');

    const replaced = cli(['build', '--images', other, '--previous', live, '--out', live, '--no-site', '--replace', '--json']);
    assert.equal(replaced.status, 0, replaced.stderr);
    const summary = JSON.parse(replaced.stdout) as { replaced: string[]; grace: { reason: string }[] };
    assert.deepEqual(summary.replaced, ['alpine:3.20:amd64:default 20261101_00:00']);
    assert.ok(
      summary.grace.some((g) => /--replace replaced/.test(g.reason)),
      'the replaced file keeps its grace period',
    );
  });

  it('explains a --previous that is no published tree', async (t) => {
    const dir = await tempDir(t);
    const r = cli(['build', '--images', await runner(dir, '20261101_00:00'), '--previous', dir, '--out', path.join(dir, 'out'), '--no-site']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /streams\/v1\/index.json: not found, so .* is no published tree/);
  });
});

describe('retention, grace and prune', () => {
  it('drops old versions from the index at once and their files only after the grace period', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    for (const [i, serial] of ['20261101_00:00', '20261110_00:00', '20261120_00:00'].entries()) {
      await build({
        images: await runner(dir, serial),
        previous: i ? live : undefined,
        out: live,
        site: false,
        now: new Date(`${serial.slice(0, 4)}-${serial.slice(4, 6)}-${serial.slice(6, 8)}T12:00:00Z`),
      });
    }
    assert.deepEqual(versionsOf(live), ['20261120_00:00', '20261110_00:00', '20261101_00:00']);
    const old = catalogOf(live)
      .products[0]!.versions.slice(1)
      .flatMap((v) => v.images[0]!.files.map((f) => f.path));

    const dry = cli(['prune', live, '--retain', '1', '--now', '2026-11-20T13:00:00Z', '--no-site', '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /dropped alpine:3.20:amd64:default 20261110_00:00 \(retention\)[\s\S]*dry run: nothing was written/);
    assert.equal(versionsOf(live).length, 3, 'the dry run wrote nothing');

    const pruned = cli(['prune', live, '--retain', '1', '--grace', '6h', '--now', '2026-11-20T13:00:00Z', '--no-site']);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.deepEqual(versionsOf(live), ['20261120_00:00'], 'the newest is kept, and only it');
    for (const f of old) assert.ok(existsSync(path.join(live, f)), `${f} stays during the grace period`);
    assert.deepEqual(
      stateOf(live)
        .grace.filter((g) => g.path.startsWith('images/'))
        .map((g) => g.path)
        .sort(),
      [...old].sort(),
    );

    const early = cli(['prune', live, '--retain', '1', '--grace', '6h', '--now', '2026-11-20T18:59:00Z', '--no-site']);
    assert.equal(early.status, 0, early.stderr);
    for (const f of old) assert.ok(existsSync(path.join(live, f)), `${f} is still within its grace period`);

    const late = cli(['prune', live, '--retain', '1', '--grace', '6h', '--now', '2026-11-20T19:00:00Z', '--no-site', '--json']);
    assert.equal(late.status, 0, late.stderr);
    for (const f of old) assert.ok(!existsSync(path.join(live, f)), `${f} is gone once the grace period is over`);
    assert.deepEqual((JSON.parse(late.stdout) as { expired: string[] }).expired.filter((p) => p.startsWith('images/')).sort(), [...old].sort());
    assert.deepEqual(stateOf(live).grace, []);
  });

  it('warns about a grace period under 2 h, on stderr and in --json', async (t) => {
    const dir = await tempDir(t);
    const r = cli(['build', '--images', await runner(dir, '20261101_00:00'), '--out', path.join(dir, 'out'), '--no-site', '--grace', '30m', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: a grace period of 30m is shorter than 2 h/);
    const summary = JSON.parse(r.stdout) as { warnings: string[] };
    assert.ok(
      summary.warnings.some((w) => /grace period of 30m is shorter than 2 h/.test(w)),
      JSON.stringify(summary.warnings),
    );
  });

  it('never drops the newest version, however old, and takes retention from the config', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    await build({ images: await runner(dir, '20250101_00:00'), out: live, site: false });
    await build({ images: await runner(dir, '20250201_00:00'), previous: live, out: live, site: false });
    await writeFile(path.join(dir, 'staticstreams.yaml'), 'retention:\n  days: 30\n  grace: 2h\n');
    const r = cli(['prune', live, '--config', path.join(dir, 'staticstreams.yaml'), '--now', '2026-11-23T00:00:00Z', '--no-site']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(versionsOf(live), ['20250201_00:00']);
  });

  it('keeps the site and the base URL of the pruned tree', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    await build({ images: await runner(dir, '20261101_00:00'), out: live, site: false, baseUrl: 'https://images.example.org' });
    const r = cli(['prune', live, '--retain', '1', '--no-site']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(catalogOf(live).baseUrl, 'https://images.example.org');
    assert.match(execFileSync(process.execPath, [BIN, 'verify', live], { encoding: 'utf8' }), /^ok: .* 0 errors/);
  });
});
