// Object storage for image files, against a local S3-protocol server (s3rver) spoken to by the
// real AWS SDK over HTTP: uploads with recorded sha256 and read-back, multipart for large
// files, skipping what is there, --previous without moving version 1's files, moving files of a
// static tree into the bucket, deleting files after their grace period, redirect rules, and
// failures that publish nothing.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  build,
  DEFAULT_HTTP,
  parseFilters,
  configSchema,
  type Config,
  type ObjectStorageSettings,
  type Catalog,
  startPreview,
  verifyTree,
} from '../../generator/index.js';
import { markerRootfs, metadataTarball, metadataYaml, put, squashfs, tarball, unifiedTarball } from '../support/images.js';
import { requirements } from '../support/require.js';
import { startS3, type LocalBucket } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';
// Internal: reads the published keyring to verify the bucket's signatures with it.
import { readKeyring } from '../../generator/signing/openpgp.js';

const BIN = path.resolve('bin/staticstreams.js');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const catalogOf = (out: string) => JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')) as Catalog;
const filesOf = (out: string) => catalogOf(out).products.flatMap((p) => p.versions.flatMap((v) => v.images.flatMap((i) => i.files)));
const at = (day: string) => new Date(`${day}T12:00:00Z`);

async function runner(root: string, serial: string, marker = serial): Promise<string> {
  const dir = path.join(root, `runner-${serial}-${marker}`);
  const creationDate = Date.UTC(Number(serial.slice(0, 4)), Number(serial.slice(4, 6)) - 1, Number(serial.slice(6, 8))) / 1000;
  await put(path.join(dir, 'image.tar.gz'), await unifiedTarball({ os: 'alpine', release: '3.20', serial, creationDate }, marker));
  return dir;
}

describe('object storage (s3rver through the AWS SDK)', () => {
  let s3: LocalBucket;
  before(async () => {
    s3 = await startS3();
  });
  after(async () => {
    await s3?.stop();
  });
  const config = (extra: Partial<ObjectStorageSettings> = {}): Config => configSchema.parse({ object_storage: s3.settings(extra) });
  const prefix = () => `t${randomBytes(4).toString('hex')}/`;

  it('a mirror publishes into the bucket too; its rerun downloads and uploads nothing', async (t) => {
    const dir = await tempDir(t);
    const upstream = path.join(dir, 'upstream');
    await build({ images: path.resolve('images'), out: upstream, site: false });
    const server = await startPreview({ dir: upstream, port: 0 });
    t.after(() => server.close());
    const out = path.join(dir, 'mirror');
    const p = prefix();
    const mirror = { upstreams: [server.url], filters: parseFilters(['type=container']), http: DEFAULT_HTTP, concurrency: 4 };
    const first = await build({ out, site: false, config: config({ prefix: p }), mirror });
    const files = filesOf(out);
    assert.equal(first.bucket?.uploaded, new Set(files.map((f) => f.path)).size, 'every mirrored file uploaded');
    assert.ok(!existsSync(path.join(out, 'images')), 'no image file is in the static output');
    for (const f of files) assert.equal(sha((await s3.get(`${p}${f.path}`))!), f.sha256, `${f.path} in the bucket`);
    const again = await build({ out, previous: out, site: false, config: config({ prefix: p }), mirror });
    assert.deepEqual([again.mirror?.filesDownloaded, again.mirror?.downloadedVersions.length, again.bucket?.uploaded], [0, 0, 0]);
    assert.equal(again.mirror?.heldVersions, first.mirror?.downloadedVersions.length);
  });

  it('uploads image files to the bucket instead of the output, verified, and redirects /images/ there', async (t) => {
    const dir = await tempDir(t);
    const out = path.join(dir, 'out');
    const p = prefix();
    const result = await build({ images: path.resolve('images'), out, site: false, config: config({ prefix: p }), targets: ['netlify'] });
    const files = filesOf(out);
    assert.ok(files.length >= 6);
    assert.deepEqual(result.bucket && { uploaded: result.bucket.uploaded, alreadyThere: result.bucket.alreadyThere, removed: result.bucket.removed }, {
      uploaded: new Set(files.map((f) => f.path)).size,
      alreadyThere: 0,
      removed: [],
    });
    assert.ok(!existsSync(path.join(out, 'images')), 'no image file is in the static output');
    // The endpoint (an R2 endpoint names the account) stays out of the public tree.
    const state = JSON.parse(readFileSync(path.join(out, 'staticstreams-state.json'), 'utf8')) as { settings: { object_storage: Record<string, unknown> } };
    assert.ok(s3.settings().endpoint, 'the build was given an endpoint');
    assert.equal(state.settings.object_storage.endpoint, undefined, 'no endpoint in staticstreams-state.json');
    assert.equal(state.settings.object_storage.bucket, s3.settings().bucket, 'the rest is recorded');
    for (const f of files) {
      const got = await s3.get(`${p}${f.path}`);
      assert.ok(got, `${f.path} is in the bucket`);
      assert.equal(sha(got), f.sha256, `${f.path}: the bucket holds the same bytes`);
    }
    const head = await fetch(`${s3.publicUrl}/${p}${files[0]!.path}`, { method: 'HEAD' });
    assert.equal(head.headers.get('x-amz-meta-sha256'), files[0]!.sha256, 'the sha256 is recorded with the object');
    assert.equal(head.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(readFileSync(path.join(out, '_redirects'), 'utf8').split('\n')[1], `/images/*  ${s3.publicUrl}/${p}images/:splat  302`);

    // The preview server applies _redirects with Netlify's parser; a client following it gets the file.
    const server = await startPreview({ dir: out, port: 0 });
    t.after(() => server.close());
    const redirected = await fetch(`${server.url}/${files[0]!.path}`, { redirect: 'manual' });
    assert.equal(redirected.status, 302);
    assert.equal(redirected.headers.get('location'), `${s3.publicUrl}/${p}${files[0]!.path}`);
    assert.equal(sha(Buffer.from(await (await fetch(`${server.url}/${files[0]!.path}`)).arrayBuffer())), files[0]!.sha256);
    const live = await verifyTree(server.url);
    assert.deepEqual(
      live.problems.filter((x) => x.severity === 'error'),
      [],
      'verify of the served tree, through the redirects',
    );
    assert.equal(live.files, new Set(files.map((f) => f.path)).size);

    // verify follows the tree's redirect to the bucket and hashes every file there.
    const verified = spawnSync(process.execPath, [BIN, 'verify', out, '--json'], { encoding: 'utf8' });
    assert.equal(verified.status, 0, verified.stdout);
    assert.equal((JSON.parse(verified.stdout) as { files: number }).files, new Set(files.map((f) => f.path)).size);

    // Building again uploads nothing: every object is there with its recorded sha256.
    const again = await build({ images: path.resolve('images'), out, site: false, config: config({ prefix: p }), targets: ['netlify'] });
    assert.equal(again.bucket?.uploaded, 0);
    assert.equal(again.bucket?.alreadyThere, result.bucket?.uploaded);
  });

  it("a signed tree keeps each version's SHA256SUMS and .asc with the image files in the bucket; verify URL --keyring checks them there", async (t) => {
    const dir = await tempDir(t);
    const out = path.join(dir, 'out');
    const p = prefix();
    const { generateKey, readKey } = await import('openpgp');
    const made = await generateKey({ userIDs: [{ name: 'Bucket Signer', email: 'b@example.org' }], type: 'curve25519', format: 'armored' });
    const env = { STATICSTREAMS_SIGNING_KEY: made.privateKey };
    const result = await build({ images: path.resolve('images'), out, site: false, config: config({ prefix: p }), targets: ['netlify'], env });
    const files = filesOf(out);
    const folders = new Set(files.map((f) => path.posix.dirname(f.path)));
    assert.equal(
      result.bucket?.uploaded,
      new Set(files.map((f) => f.path)).size + 2 * folders.size,
      'the image files, and SHA256SUMS + .asc per version folder',
    );
    for (const folder of folders) {
      const sums = (await s3.get(`${p}${folder}/SHA256SUMS`))?.toString('utf8');
      assert.ok(sums, `${folder}/SHA256SUMS is in the bucket`);
      for (const f of files.filter((x) => path.posix.dirname(x.path) === folder)) assert.ok(sums.includes(`${f.sha256}  ${path.posix.basename(f.path)}\n`));
      assert.match((await s3.get(`${p}${folder}/SHA256SUMS.asc`))!.toString('utf8'), /^-----BEGIN PGP SIGNATURE-----/);
    }
    assert.ok(!existsSync(path.join(out, 'images')), 'nothing under images/ in the static output');
    const server = await startPreview({ dir: out, port: 0 });
    t.after(() => server.close());
    const keyring = await readKeyring(Buffer.from((await readKey({ armoredKey: made.publicKey })).write()), 'test');
    const live = await verifyTree(server.url, { quick: true, keyring });
    assert.deepEqual(live.problems, [], 'the chain, the detached signatures and every SHA256SUMS verify through the redirects');
    assert.equal(live.signatures?.complete, true);
    const again = await build({ images: path.resolve('images'), out, site: false, config: config({ prefix: p }), targets: ['netlify'], env });
    assert.equal(again.bucket?.uploaded, 0, 'signatures are deterministic: nothing uploaded again');
  });

  it('uploads a large file in parts and reads it back', async (t) => {
    const dir = await tempDir(t);
    const images = path.join(dir, 'images');
    const big = randomBytes(12 * 1024 * 1024); // three 5 MiB parts
    await put(
      path.join(images, 'big.tar'),
      await tarball([
        { name: 'metadata.yaml', content: metadataYaml({ os: 'bigos', release: '1', serial: '20261101_00:00' }) },
        { name: 'rootfs/' },
        { name: 'rootfs/blob', content: big },
      ]),
    );
    const p = prefix();
    const uploaded: number[] = [];
    const reporter = { phase() {}, warn() {}, progress: (action: string, done: number) => void (action === 'uploading' && uploaded.push(done)) };
    const r = await build({ images, out: path.join(dir, 'out'), site: false, config: config({ prefix: p, part_size_mib: 5 }), reporter });
    const [file] = filesOf(path.join(dir, 'out'));
    assert.ok(file!.size > 10 * 1024 * 1024);
    assert.equal(r.bucket?.uploaded, 1);
    assert.equal(r.bucket?.bytesUploaded, file!.size);
    const got = await s3.get(`${p}${file!.path}`);
    assert.equal(got && sha(got), file!.sha256);
    const MiB = 1024 * 1024;
    // Parts go up two at a time, so they may finish in any order: compare the sizes of the steps.
    const parts = uploaded.map((done, i) => done - (uploaded[i - 1] ?? 0)).sort((x, y) => x - y);
    assert.deepEqual(parts, [file!.size - 10 * MiB, 5 * MiB, 5 * MiB], 'uploaded in three parts, each reported as it finished');
  });

  it('publishes version 2 with --previous without moving version 1, and deletes dropped files from the bucket after the grace period', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    const cfg = config({ prefix: prefix() });
    const key = (rel: string) => `${cfg.object_storage!.prefix}${rel}`;
    await build({ images: await runner(dir, '20261101_00:00'), out: live, site: false, config: cfg, now: at('2026-11-01') });
    const v1 = filesOf(live).map((f) => f.path);

    const v2 = await build({ images: await runner(dir, '20261110_00:00'), previous: live, out: live, site: false, config: cfg, now: at('2026-11-10') });
    assert.equal(v2.bucket?.uploaded, 1, 'only the new image went up');
    assert.equal(v2.bucket?.alreadyThere, 1, 'version 1 stayed where it was');
    assert.equal(v2.placed.linked + v2.placed.copied + v2.placed.downloaded, 1, 'only the superseded products file passed through the output');

    const prune = (now: string) => build({ previous: live, out: live, site: false, config: cfg, retain: 1, grace: '6h', now: new Date(now) });
    const early = await prune('2026-11-10T13:00:00Z');
    assert.deepEqual(early.lifecycle.dropped, ['alpine:3.20:amd64:default 20261101_00:00']);
    for (const f of v1) assert.ok(await s3.get(key(f)), `${f} stays in the bucket during the grace period`);
    const late = await prune('2026-11-10T19:00:00Z');
    assert.deepEqual(late.bucket?.removed, v1.map(key));
    for (const f of v1) assert.equal(await s3.get(key(f)), null, `${f} is deleted once the grace period is over`);
    for (const f of filesOf(live)) assert.ok(await s3.get(key(f.path)), `${f.path} (version 2) is untouched`);
    // A file missing from the bucket is a verify error.
    await s3.remove(key(filesOf(live)[0]!.path));
    const verified = spawnSync(process.execPath, [BIN, 'verify', live], { encoding: 'utf8' });
    assert.equal(verified.status, 1);
    assert.match(verified.stdout, /file images\/.* is missing/);
  });

  it('moves the files of a tree published without object storage into the bucket', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    await build({ images: await runner(dir, '20261101_00:00'), out: live, site: false });
    const v1 = filesOf(live);
    const out = path.join(dir, 'next');
    const cfg = config({ prefix: prefix() });
    const r = await build({ images: await runner(dir, '20261110_00:00'), previous: live, out, site: false, config: cfg });
    assert.equal(r.bucket?.uploaded, 2, 'version 1 (from the previous tree) and version 2');
    for (const f of v1) assert.equal(sha((await s3.get(`${cfg.object_storage!.prefix}${f.path}`))!), f.sha256);
    assert.ok(!existsSync(path.join(out, 'images')));
  });

  it('publishes nothing when the bucket cannot be reached or refuses, and says what to fix', async (t) => {
    const dir = await tempDir(t);
    const out = path.join(dir, 'out');
    await build({ images: await runner(dir, '20261101_00:00'), out, site: false });
    const before = readdirSync(out, { recursive: true }).sort();
    const cfgFile = path.join(dir, 'staticstreams.yaml');
    const write = (o: Partial<ObjectStorageSettings>) => writeFile(cfgFile, `object_storage: ${JSON.stringify(s3.settings(o))}\n`);

    await write({ bucket: 'no-such-bucket' });
    let r = spawnSync(
      process.execPath,
      [BIN, 'build', '--images', await runner(dir, '20261110_00:00'), '--previous', out, '--out', out, '--no-site', '--config', cfgFile],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /s3:\/\/no-such-bucket\/: cannot list images\/: NoSuchBucket[\s\S]*fix: create the bucket/);
    assert.match(r.stderr, /nothing was published/);
    assert.deepEqual(readdirSync(out, { recursive: true }).sort(), before, 'the output is as it was');

    r = spawnSync(
      process.execPath,
      [BIN, 'build', '--images', await runner(dir, '20261110_00:00'), '--previous', out, '--out', out, '--no-site', '--config', cfgFile],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_PROFILE: 'staticstreams-test-missing',
          AWS_CONFIG_FILE: '/nonexistent',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        },
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    assert.deepEqual(readdirSync(out, { recursive: true }).sort(), before);

    await write({ endpoint: 'http://127.0.0.1:9' });
    r = spawnSync(
      process.execPath,
      [BIN, 'build', '--images', await runner(dir, '20261110_00:00'), '--previous', out, '--out', out, '--no-site', '--config', cfgFile],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot list images\/[\s\S]*fix: check object_storage/);
    assert.deepEqual(readdirSync(out, { recursive: true }).sort(), before);
  });

  it('skips an object already holding the bytes without recorded sha256 (read back), and replaces one with other bytes', async (t) => {
    const dir = await tempDir(t);
    const images = await runner(dir, '20261101_00:00');
    const dry = await build({ images, out: path.join(dir, 'dry'), site: false, dryRun: true });
    const [file] = dry.plan.files;
    const p = prefix();
    // Put there by something else: a plain PUT, no x-amz-meta-sha256.
    const put = (body: Buffer | string) => fetch(`${s3.publicUrl}/${p}${file!.path}`, { method: 'PUT', body: new Uint8Array(Buffer.from(body)) });
    assert.equal((await put(readFileSync(path.join(images, 'image.tar.gz')))).status, 200);
    const same = await build({ images, out: path.join(dir, 'a'), site: false, config: config({ prefix: p }) });
    assert.deepEqual([same.bucket?.uploaded, same.bucket?.alreadyThere], [0, 1], 'read back, found identical, kept');

    assert.equal((await put('x'.repeat(file!.size))).status, 200); // same size, other bytes
    const warnings: string[] = [];
    const reporter = { phase() {}, progress() {}, warn: (m: string) => void warnings.push(m) };
    const other = await build({ images, out: path.join(dir, 'b'), site: false, config: config({ prefix: p }), reporter });
    assert.deepEqual([other.bucket?.uploaded, other.bucket?.alreadyThere], [1, 0]);
    assert.ok(
      warnings.some((w) => /holds other bytes .*replacing them/.test(w)),
      warnings.join('\n'),
    );
    assert.equal(sha((await s3.get(`${p}${file!.path}`))!), file!.sha256);
  });

  it('refuses to publish over a bucket object that no longer matches the live index', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    const cfg = config({ prefix: prefix() });
    await build({ images: await runner(dir, '20261101_00:00'), out: live, site: false, config: cfg });
    const [v1] = filesOf(live);
    // Another tool writes other bytes to version 1's key.
    const { openBucket } = await import('../../generator/source/bucket.js');
    const bucket = openBucket(cfg.object_storage!);
    t.after(() => bucket.close());
    const other = path.join(dir, 'other');
    await writeFile(other, 'other bytes');
    await bucket.upload(`${cfg.object_storage!.prefix}${v1!.path}`, other, { size: 11, sha256: sha(Buffer.from('other bytes')) }, () => {});
    await assert.rejects(
      build({ images: await runner(dir, '20261110_00:00'), previous: live, out: live, site: false, config: cfg }),
      (e: Error & { problems?: { problem: string }[] }) => {
        assert.match(e.problems?.[0]?.problem ?? '', /images\/.* is 11 bytes, but the published tree lists it with \d+/);
        return true;
      },
    );
  });

  it(
    'with --deltas and a live URL: diffs against version 1 fetched through the redirect, and uploads the delta',
    { skip: requirements(['mksquashfs', 'xdelta3']) },
    async (t) => {
      const dir = await tempDir(t);
      const cfg = config({ prefix: prefix() });
      const split = async (serial: string) => {
        const d = path.join(dir, `split-${serial}`);
        await put(path.join(d, 'lxd.tar.xz'), await metadataTarball({ os: 'deltaos', release: '1', serial }));
        await put(path.join(d, 'rootfs.squashfs'), await squashfs([...markerRootfs(serial), { name: 'shared.bin', content: shared }]));
        return d;
      };
      const shared = randomBytes(1024 * 1024);
      const live = path.join(dir, 'live');
      await build({ images: await split('20261101_00:00'), out: live, site: false, config: cfg });
      const server = await startPreview({ dir: live, port: 0 });
      t.after(() => server.close());
      const out = path.join(dir, 'next');
      const r = await build({ images: await split('20261110_00:00'), previous: server.url, out, site: false, config: cfg, deltas: true });
      assert.equal(r.deltas.length, 1);
      assert.equal(r.bucket?.uploaded, 3, 'version 2: metadata, squashfs and the delta');
      const delta = r.plan.files.find((f) => f.path.endsWith('.squashfs.vcdiff'))!;
      assert.equal(sha((await s3.get(`${cfg.object_storage!.prefix}${delta.path}`))!), delta.sha256);
      assert.ok(!existsSync(path.join(out, 'images')));
    },
  );

  it('dry run: contacts no bucket', async (t) => {
    const dir = await tempDir(t);
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'build',
        '--images',
        await runner(dir, '20261101_00:00'),
        '--out',
        path.join(dir, 'out'),
        '--no-site',
        '--dry-run',
        '--config',
        await (async () => {
          const f = path.join(dir, 'c.yaml');
          await writeFile(f, `object_storage: ${JSON.stringify(s3.settings({ endpoint: 'http://127.0.0.1:9' }))}\n`);
          return f;
        })(),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /dry run: nothing was written to .* and nothing was uploaded or deleted/);
  });
});
