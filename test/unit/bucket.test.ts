import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllRedirects } from '@netlify/redirect-parser';
import { blobRedirect, bucketKey } from '../../generator/render/bucket-layout.js';
import { planBucketSync } from '../../generator/publish/bucket/plan.js';
import { renderRedirectsFile, renderTargets } from '../../generator/render/cdn/targets.js';
import { renderCloudflareWorker } from '../../generator/render/cdn/edge-code.js';
import { buildImportMap } from '../../generator/render/cdn/import-map.js';
import { renderNginxServer } from '../../generator/render/cdn/nginx.js';
import { renderCaddySite } from '../../generator/render/cdn/caddy.js';
import type { PlannedFile } from '../../generator/plan/products.js';
import { tempDir } from '../support/tmp.js';
import { configSchema, loadConfig, parseConfig, type ObjectStorageSettings, BuildError, UsageError } from '../../generator/index.js';
import { plannedFile } from '../support/builders.js';

const settings = (o: Partial<ObjectStorageSettings> = {}): ObjectStorageSettings =>
  configSchema.parse({ object_storage: { bucket: 'b', public_url: 'https://files.example.org/', prefix: 'lxd/', ...o } }).object_storage!;
const input = (p: string, size = 10): PlannedFile => ({ origin: { kind: 'input', path: `/in/${p}`, rel: p }, path: p, sha256: 'a'.repeat(64), size });
const previous = (p: string, size = 10): PlannedFile => plannedFile(p, 'b'.repeat(64), size);

/** The commented-out `# KEY:` block of the example config, uncommented. */
function commentedBlock(text: string, key: string): string[] {
  const lines = text.split('\n');
  const from = lines.indexOf(`# ${key}:`);
  assert.ok(from >= 0, `the example has # ${key}:`);
  const block = [lines[from]!];
  for (const line of lines.slice(from + 1)) {
    if (!/^# {3}\w/.test(line)) break;
    block.push(line);
  }
  return block.map((l) => l.slice(2));
}

describe('object storage settings', () => {
  it('validates the object_storage section', () => {
    const s = settings();
    assert.equal(s.verify, 'read-back');
    assert.equal(s.part_size_mib, 8);
    assert.throws(
      () => parseConfig({ object_storage: { bucket: 'b' } }),
      (e: Error) => e instanceof UsageError && /object_storage\.public_url/.test(e.message),
    );
    assert.throws(() => parseConfig({ object_storage: { bucket: 'b', public_url: 'https://x.org', prefix: '/lxd' } }), /object_storage\.prefix/);
    assert.throws(() => parseConfig({ object_storage: { bucket: 'b', public_url: 'https://x.org', part_size_mib: 1 } }), /object_storage\.part_size_mib/);
    assert.throws(
      () => parseConfig({ object_storage: { bucket: 'b', public_url: 'https://x.org', secret: 'k' } }),
      /object_storage\.secret: is not a setting staticstreams knows\n {2}fix: (did you mean object_storage\.\w+\?|remove it)/,
    );
  });

  /** The example config with its commented-out `key` block uncommented, loaded as a user's would be. */
  async function exampleWith(t: TestContext, key: string, minLines: number) {
    const text = await readFile(path.resolve('staticstreams.example.yaml'), 'utf8');
    const block = commentedBlock(text, key);
    assert.ok(block.length >= minLines, `the ${key} block is in the example`);
    const file = path.join(await tempDir(t), 'c.yaml');
    await writeFile(file, `${text}\n${block.join('\n')}\n`);
    return loadConfig(file, true);
  }

  it("the example config's object_storage block is valid once uncommented", async (t) => {
    const config = await exampleWith(t, 'object_storage', 10);
    assert.equal(config.object_storage?.bucket, 'lxd-images');
    assert.deepEqual(blobRedirect(config.object_storage!), { from: '/images/', to: 'https://files.example.org/lxd/images/' });
  });

  it("the example config's mirror block is valid once uncommented", async (t) => {
    const config = await exampleWith(t, 'mirror', 5);
    assert.deepEqual(config.mirror.upstreams, ['https://images.example.org']);
    assert.deepEqual(config.mirror.filter, ['os=debian', 'arch=amd64', 'type=container']);
  });

  it('puts files at PREFIX + path and sends /images/ to the public URL of that prefix', () => {
    assert.equal(bucketKey(settings(), 'images/a/b.tar.gz'), 'lxd/images/a/b.tar.gz');
    assert.deepEqual(blobRedirect(settings()), { from: '/images/', to: 'https://files.example.org/lxd/images/' });
    assert.deepEqual(blobRedirect(settings({ prefix: '' })), { from: '/images/', to: 'https://files.example.org/images/' });
    assert.throws(() => blobRedirect(settings({ public_url: 'https://files.example.org/$x' })), BuildError);
  });
});

describe('planning the bucket sync', () => {
  const s = settings();
  it('uploads what is missing, confirms new files of the same size, trusts previous files of their size', () => {
    const files = [
      input('images/new'),
      input('images/rerun'),
      input('images/resized'),
      previous('images/old'),
      previous('images/lost'),
      previous('streams/v1/images-x.json'),
    ];
    const existing = new Map([
      ['lxd/images/rerun', 10],
      ['lxd/images/resized', 7],
      ['lxd/images/old', 10],
      ['lxd/images/gone', 5],
      ['lxd/images/stray', 1],
    ]);
    const plan = planBucketSync(s, files, existing, ['images/gone', 'images/never-uploaded', 'streams/v1/images-y.json']);
    assert.deepEqual(
      plan.upload.map((f) => f.path),
      ['images/new', 'images/resized', 'images/lost'],
    );
    assert.deepEqual(
      plan.confirm.map((f) => f.path),
      ['images/rerun'],
    );
    assert.deepEqual(
      plan.present.map((f) => f.path),
      ['images/old'],
    );
    assert.deepEqual(plan.remove, ['lxd/images/gone'], 'only expired files the bucket holds; strays are left alone');
    assert.deepEqual(plan.problems, []);
  });

  it('refuses when a listed file of the previous tree has another size in the bucket', () => {
    const plan = planBucketSync(s, [previous('images/old', 10)], new Map([['lxd/images/old', 3]]), []);
    assert.equal(plan.problems.length, 1);
    assert.match(plan.problems[0]!.problem, /s3:\/\/b\/lxd\/images\/old is 3 bytes, but the published tree lists it with 10/);
  });

  it('never deletes a file that is still listed or kept', () => {
    const plan = planBucketSync(s, [previous('images/a')], new Map([['lxd/images/a', 10]]), ['images/a']);
    assert.deepEqual(plan.remove, []);
  });
});

describe('redirect rules for image files on object storage', () => {
  const blobs = blobRedirect(settings());
  const catalog = { baseUrl: 'https://img.example.org', products: [] };

  it("_redirects parses with Netlify's parser into one splat rule", async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, '_redirects');
    await writeFile(file, renderRedirectsFile(blobs));
    const r = await parseAllRedirects({ redirectsFiles: [file], configRedirects: [], minimal: true });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      (r.redirects as { from: string; to: string; status?: number }[]).map(({ from, to, status }) => ({ from, to, status })),
      [{ from: '/images/*', to: 'https://files.example.org/lxd/images/:splat', status: 302 }],
    );
  });

  it('is written for each host, and only with object storage', () => {
    const all = renderTargets(['netlify', 'cloudflare', 'nginx', 'caddy'], catalog, 'amd64', blobs);
    assert.ok(all.published.has('_redirects'));
    assert.match(all.published.get('_worker.js')!, /"to":"https:\/\/files\.example\.org\/lxd\/images\/"/);
    assert.match(
      all.serverConfig.get('nginx-server.conf')!,
      /location \^~ \/images\/ \{\n {4}rewrite \^\/images\/\(\.\*\)\$ "https:\/\/files\.example\.org\/lxd\/images\/\$1" redirect;\n\}/,
    );
    assert.match(all.serverConfig.get('caddy-site.conf')!, /redir @ss_blobs "https:\/\/files\.example\.org\/lxd\/images\/\{re\.ss_blobs\.1\}" 302/);
    const none = renderTargets(['netlify', 'cloudflare', 'nginx', 'caddy'], catalog, 'amd64');
    assert.ok(!none.published.has('_redirects'));
    assert.match(none.published.get('_worker.js')!, /const BLOBS = null;/);
    assert.doesNotMatch(none.serverConfig.get('nginx-server.conf')!, /redirect;/);
    assert.doesNotMatch(renderNginxServer(buildImportMap(catalog, 'amd64')), /redirect;/);
    assert.doesNotMatch(renderCaddySite(buildImportMap(catalog, 'amd64')), /^redir /m);
  });

  it('the Cloudflare worker module loads with the redirect inlined', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'worker.mjs');
    await writeFile(file, renderCloudflareWorker(buildImportMap(catalog, 'amd64'), blobs));
    const mod = await import(pathToFileURL(file).href);
    assert.equal(typeof mod.default.fetch, 'function');
  });
});
