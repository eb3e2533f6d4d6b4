// --target bucket (issue 41) against moto, a store that enforces conditional writes (s3rver does
// not, and is used only to show that such a store is refused): many publishers at once, each from
// its own folder, each adding its own product to one tree in the bucket, committed with
// compare-and-swap — nothing lost, the catalogue converging, retention deleting nothing still
// listed, a clash between two publishers refused, and a publisher killed at any point leaving the
// tree whole for the next run to finish.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, runCli } from '../support/cli.js';
import { requirements } from '../support/require.js';
import { startMoto, type MotoBucket } from '../support/moto.js';
import { startS3 } from '../support/s3.js';
import { tempDir } from '../support/tmp.js';
import { compress, metadataYaml, put, tarball, unifiedTarball } from '../support/images.js';

const skip = requirements(['moto_server']);

interface Tree {
  products: Record<string, { versions: Record<string, { items: Record<string, { path: string; ftype?: string }> }> }>;
}

async function treeOf(m: MotoBucket, prefix: string): Promise<Tree> {
  const index = (await (await fetch(`${m.publicUrl}/${prefix}streams/v1/index.json`)).json()) as { index: Record<string, { path: string }> };
  const products = Object.values(index.index)[0]!.path;
  return (await (await fetch(`${m.publicUrl}/${prefix}${products}`)).json()) as Tree;
}

/** A publisher's own folder: its config and one image of its own. */
async function publisher(root: string, name: string, yaml: string, serial = '20261101_00:00', os = name, marker = name): Promise<string> {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'staticstreams.yaml'), yaml);
  await put(path.join(dir, 'images/image.tar.gz'), await unifiedTarball({ os, release: '1', serial }, marker));
  return dir;
}

const publish = (dir: string, env: NodeJS.ProcessEnv, extra: string[] = []) =>
  runCli(['build', '--images', 'images', '--out', 'out', '--now', '2026-12-02T00:00:00Z', ...extra], { cwd: dir, env, timeoutMs: 600_000 });

describe('--target bucket', { skip }, () => {
  let m: MotoBucket;
  before(async () => {
    m = await startMoto();
  });
  after(async () => {
    await m?.stop();
  });

  it('an image with a package database: its manifest files (made by the build, never on disk before) uploaded, listed, verified, and read by diff from the bucket', async (t) => {
    const work = await tempDir(t);
    const prefix = 'manifests/';
    const dir = path.join(work, 'pub');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'staticstreams.yaml'), `targets: [bucket]\n${m.yaml({ prefix })}`);
    for (const [serial, version] of [
      ['20261101_00:00', '1.0'],
      ['20261102_00:00', '1.1'],
    ] as const) {
      const status = `Package: demo\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n`;
      await put(
        path.join(dir, `images/${serial.slice(0, 8)}.tar.gz`),
        compress(
          await tarball([
            { name: 'metadata.yaml', content: metadataYaml({ os: 'pkgos', release: '1', serial }) },
            { name: 'rootfs/' },
            { name: 'rootfs/sbin/init', content: '#!/bin/sh\n', mode: 0o755 },
            { name: 'rootfs/var/lib/dpkg/status', content: status },
          ]),
          'gzip',
        ),
      );
      const r = await publish(dir, m.env, ['--no-site']);
      assert.equal(r.status, 0, r.stderr);
    }
    const tree = await treeOf(m, prefix);
    const items = Object.values(tree.products['pkgos:1:amd64:default']!.versions).flatMap((v) => Object.values(v.items) as { path: string; ftype?: string }[]);
    assert.equal(items.filter((i) => i.ftype === 'manifest.json').length, 2);
    for (const i of items) assert.equal((await fetch(`${m.publicUrl}/${prefix}${i.path}`)).status, 200, i.path);
    const v = await runCli(['verify', `${m.publicUrl}/${prefix}`], { cwd: work, env: m.env });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const diff = await runCli(['diff', `${m.publicUrl}/${prefix}`, 'pkgos/1', '20261101_00:00', '20261102_00:00'], { cwd: work, env: m.env });
    assert.equal(diff.status, 0, diff.stderr);
    assert.ok(diff.stdout.includes('demo 1.0 → 1.1'), diff.stdout);
  });

  for (const [n, site] of [
    [8, true],
    [16, false],
  ] as const)
    it(`${n} publishers started together, each adding its own product: every product listed, verify passes${site ? ', the catalogue lists them all' : ''}`, async (t) => {
      const work = await tempDir(t);
      const prefix = `p${n}/`;
      const yaml = `targets: [bucket]\n${m.yaml({ prefix })}`;
      const dirs = await Promise.all(Array.from({ length: n }, (_, i) => publisher(work, `os${i}`, yaml)));
      const runs = await Promise.all(dirs.map((d) => publish(d, m.env, ['--json', ...(site ? [] : ['--no-site'])])));
      for (const r of runs) assert.equal(r.status, 0, r.stderr);
      const retries = runs.map((r) => (JSON.parse(r.stdout) as { bucketCommit: { retries: number } }).bucketCommit.retries);
      t.diagnostic(`${n} publishers: retries ${retries.join(', ')}`);
      const tree = await treeOf(m, prefix);
      assert.deepEqual(Object.keys(tree.products).sort(), Array.from({ length: n }, (_, i) => `os${i}:1:amd64:default`).sort());
      const v = await runCli(['verify', `${m.publicUrl}/${prefix}`], { cwd: work, env: m.env });
      assert.equal(v.status, 0, v.stdout + v.stderr);
      const catalog = (await (await fetch(`${m.publicUrl}/${prefix}catalog.json`)).json()) as { products: { key: string }[] };
      assert.equal(catalog.products.length, n, 'catalog.json follows the last commit');
      if (site) {
        const home = await (await fetch(`${m.publicUrl}/${prefix}index.html`)).text();
        for (let i = 0; i < n; i++) assert.ok(home.includes(`os${i}`), `the home page lists os${i}`);
      }
    });

  it('two publishers with the same version key and other images: one publishes, the other fails naming both, the tree whole', async (t) => {
    const work = await tempDir(t);
    const yaml = `targets: [bucket]\n${m.yaml({ prefix: 'clash/' })}`;
    const a = await publisher(work, 'a', yaml, '20261101_00:00', 'same', 'from a');
    const b = await publisher(work, 'b', yaml, '20261101_00:00', 'same', 'from b');
    const [ra, rb] = await Promise.all([publish(a, m.env, ['--no-site']), publish(b, m.env, ['--no-site'])]);
    assert.deepEqual([ra.status, rb.status].sort(), [0, 1], `${ra.stderr}\n${rb.stderr}`);
    const loser = ra.status === 1 ? ra : rb;
    assert.match(loser.stderr, /same:1:amd64:default.*20261101_00:00/);
    assert.match(loser.stderr, /--replace/);
    assert.equal((await runCli(['verify', `${m.publicUrl}/clash/`], { cwd: work, env: m.env })).status, 0);
  });

  it('--retain 1 on a product several publishers add versions to: no file a commit lists is deleted', async (t) => {
    const work = await tempDir(t);
    const yaml = `targets: [bucket]\n${m.yaml({ prefix: 'retain/' })}\nretention:\n  keep: 1\n  grace: 1m\n`;
    const dirs = await Promise.all(
      ['20261101_00:00', '20261102_00:00', '20261103_00:00', '20261104_00:00'].map((serial, i) => publisher(work, `r${i}`, yaml, serial, 'shared', `v${i}`)),
    );
    const runs = await Promise.all(dirs.map((d) => publish(d, m.env, ['--no-site'])));
    for (const r of runs) assert.equal(r.status, 0, r.stderr);
    const tree = await treeOf(m, 'retain/');
    const versions = Object.keys(tree.products['shared:1:amd64:default']!.versions);
    assert.equal(versions.length, 1, versions.join());
    assert.equal((await runCli(['verify', `${m.publicUrl}/retain/`], { cwd: work, env: m.env })).status, 0, 'every listed file is there');
  });

  it('a publisher killed at 12 points of a publish leaves the tree whole, and the next run finishes the work', async (t) => {
    const work = await tempDir(t);
    // Each run adds a day's version and drops the one before (its files kept an hour): runs delete too.
    const yaml = `targets: [bucket]\n${m.yaml({ prefix: 'kill/' })}retention:\n  keep: 1\n  grace: 1h\n`;
    let day = 1;
    const now = () => `2026-11-${String(day).padStart(2, '0')}T12:00:00Z`;
    const first = await publisher(work, 'first', yaml, '20261101_00:00', 'killed', 'v1');
    assert.equal((await publish(first, m.env, ['--now', now()])).status, 0);
    const phases = [
      /^uploading \d+ files?, /m,
      /^uploading \d+ files? the commit names/m,
      /^committing to /m,
      /^bringing \d+ files? of /m,
      /^deleting \d+ files? no commit lists/m,
      /^writing, and building the catalogue site/m,
    ];
    const killedAt: string[] = [];
    for (const phase of phases)
      for (const delay of [0, 150]) {
        day++;
        const serial = `202611${String(day).padStart(2, '0')}_00:00`;
        const dir = await publisher(work, `k${day}`, yaml, serial, 'killed', `v${day}`);
        const child = spawn(process.execPath, [BIN, 'build', '--images', 'images', '--out', 'out', '--now', now()], { cwd: dir, env: m.env });
        let stderr = '';
        let hit = false;
        await new Promise<void>((resolve) => {
          child.stderr.on('data', (d: Buffer) => {
            stderr += d.toString();
            if (!hit && phase.test(stderr)) {
              hit = true;
              setTimeout(() => child.kill('SIGKILL'), delay);
            }
          });
          child.on('close', () => resolve());
        });
        killedAt.push(`${phase.source.slice(1, 20)}+${delay}ms: ${hit ? 'killed' : 'ended before'}`);
        const v = await runCli(['verify', `${m.publicUrl}/kill/`], { cwd: work, env: m.env });
        assert.equal(v.status, 0, `killed at ${phase} + ${delay} ms: ${v.stdout}${v.stderr}`);
      }
    t.diagnostic(killedAt.join('; '));
    assert.ok(killedAt.filter((k) => k.endsWith('killed')).length >= 10, 'at least 10 kills landed inside a publish');
    // The next run completes what was left: its version listed, the fixed-name files and the catalogue in line.
    day++;
    const last = await publisher(work, 'last', yaml, `202611${String(day).padStart(2, '0')}_00:00`, 'killed', 'last');
    const r = await publish(last, m.env, ['--now', now()]);
    assert.equal(r.status, 0, r.stderr);
    const tree = await treeOf(m, 'kill/');
    assert.deepEqual(Object.keys(tree.products['killed:1:amd64:default']!.versions), [`202611${String(day).padStart(2, '0')}_00:00`]);
    const catalog = (await (await fetch(`${m.publicUrl}/kill/catalog.json`)).json()) as { products: { versions: { version: string }[] }[] };
    assert.deepEqual(
      catalog.products[0]!.versions.map((v) => v.version),
      Object.keys(tree.products['killed:1:amd64:default']!.versions),
      'the catalogue follows the commit',
    );
    assert.equal((await runCli(['verify', `${m.publicUrl}/kill/`], { cwd: work, env: m.env })).status, 0);
  });

  it('each object is served with the Content-Type and Cache-Control the other hosts give its path', async (t) => {
    const work = await tempDir(t);
    const dir = await publisher(work, 'headers', `targets: [bucket]\n${m.yaml({ prefix: 'headers/' })}`);
    assert.equal((await publish(dir, m.env)).status, 0);
    const head = async (rel: string) => {
      const r = await fetch(`${m.publicUrl}/headers/${rel}`);
      await r.arrayBuffer();
      assert.equal(r.status, 200, rel);
      return [r.headers.get('content-type'), r.headers.get('cache-control')];
    };
    assert.deepEqual(await head('streams/v1/index.json'), ['application/json', 'public, max-age=60, must-revalidate']);
    const tree = await treeOf(m, 'headers/');
    const image = Object.values(Object.values(tree.products)[0]!.versions)[0]!;
    assert.deepEqual(await head(Object.values(image.items)[0]!.path), ['application/octet-stream', 'public, max-age=31536000, immutable']);
    assert.equal((await head('index.html'))[0], 'text/html; charset=utf-8');
  });

  it(
    "the repository's action.yml, its steps run as a runner runs them: two matrix jobs publish into one bucket, signed",
    { skip: requirements(['gpg', 'bash']) },
    async (t) => {
      const work = await tempDir(t);
      const { parse } = await import('yaml');
      const action = parse(readFileSync(path.resolve('action.yml'), 'utf8')) as {
        inputs: Record<string, { default: string }>;
        runs: { using: string; steps: { run: string; shell: string; env?: Record<string, string>; id?: string }[] };
      };
      assert.equal(action.runs.using, 'composite');
      const { makeKey, cleanupKey, gpgv } = await import('../support/gpg.js');
      const key = makeKey(work);
      t.after(() => cleanupKey(key));
      const job = async (name: string) => {
        const dir = await publisher(work, name, `targets: [bucket]\n${m.yaml({ prefix: 'action/' })}`);
        const inputs: Record<string, string> = {
          ...Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default])),
          images: 'images',
          target: 'bucket',
          'signing-key': key.secret,
          args: '--no-site',
        };
        // What the runner does: ${{ inputs.* }} expressions replaced, each step's script run with bash.
        const expand = (text: string) => text.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_m, k: string) => inputs[k] ?? '');
        const output = path.join(dir, 'github-output');
        writeFileSync(output, '');
        for (const step of action.runs.steps) {
          assert.equal(step.shell, 'bash');
          const env = {
            ...m.env,
            ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v)])),
            GITHUB_ACTION_PATH: path.resolve('.'),
            GITHUB_OUTPUT: output,
            RUNNER_TEMP: dir,
            STATICSTREAMS_SIGNING_KEY: undefined,
          };
          const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
            const child = spawn('bash', ['-e', '-c', expand(step.run)], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
            let err = '';
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('close', (code) => resolve({ code, err }));
          });
          assert.equal(r.code, 0, `${name}: ${step.run}\n${r.err}`);
        }
        const summary = JSON.parse(/^summary=(.*)$/m.exec(readFileSync(output, 'utf8'))![1]!) as { bucketCommit: { status: string }; signedBy: string };
        assert.equal(summary.bucketCommit.status, 'committed');
        assert.equal(summary.signedBy, key.fingerprint);
      };
      await Promise.all([job('matrix-amd64'), job('matrix-arm64')]);
      const tree = await treeOf(m, 'action/');
      assert.deepEqual(Object.keys(tree.products).sort(), ['matrix-amd64:1:amd64:default', 'matrix-arm64:1:amd64:default']);
      const signed = path.join(work, 'index.sjson');
      writeFileSync(signed, Buffer.from(await (await fetch(`${m.publicUrl}/action/streams/v1/index.sjson`)).arrayBuffer()));
      assert.ok(gpgv(key.keyring, signed).ok, 'the tree is signed');
    },
  );

  it('a store that ignores conditional writes (s3rver) is refused with the reason; publishers: one is the user’s promise', async (t) => {
    const s3 = await startS3();
    t.after(() => s3.stop());
    const work = await tempDir(t);
    const dir = await publisher(
      work,
      'plain',
      `targets: [bucket]\n${Object.entries(s3.settings())
        .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
        .join('\n')
        .replace(/^/, 'object_storage:\n')}\n`,
    );
    const r = await publish(dir, process.env, ['--no-site']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /does not refuse a second create-only write/);
    assert.match(r.stderr, /publishers: one/);
    writeFileSync(path.join(dir, 'staticstreams.yaml'), readYaml(dir).replace('publishers: "many"', 'publishers: "one"'));
    const one = await publish(dir, process.env, ['--no-site']);
    assert.equal(one.status, 0, one.stderr);
  });
});

function readYaml(dir: string): string {
  return readFileSync(path.join(dir, 'staticstreams.yaml'), 'utf8');
}
