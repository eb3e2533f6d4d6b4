// A tree whose base URL has a path (https://host/lxd/), served under that path by `staticstreams
// serve` (which applies the tree's own _headers, _redirects and import endpoints): streams with
// their headers, import endpoints with both header families and architecture negotiation, the
// catalogue and its assets, object storage's redirect, 404 outside the path; and every host's
// rules written for the path (nginx, Caddy, Netlify, Cloudflare). Real LXD and Incus under a
// path on nginx and Caddy are in test/e2e/sub-path.test.ts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build, configSchema, startPreview, verifyTree, type RunningPreview } from '../../generator/index.js';

const IMAGES = path.resolve('images');

describe('a tree served under a path', () => {
  let work: string;
  let out: string;
  let serverConfig: string;
  let server: RunningPreview;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ss-subpath-'));
    out = path.join(work, 'dist');
    serverConfig = path.join(work, 'server-config');
    // The port is only known once serving: build for a fixed one, served on it.
    const probe = await startPreview({ dir: IMAGES, port: 0 });
    const port = probe.port;
    await probe.close();
    await build({ images: IMAGES, out, baseUrl: `http://127.0.0.1:${port}/lxd`, targets: ['netlify', 'cloudflare', 'nginx', 'caddy'], serverConfig });
    server = await startPreview({ dir: out, port });
  });
  after(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('serves the tree under the path, and nothing outside it', async () => {
    assert.match(server.url, /\/lxd$/);
    const origin = new URL(server.url).origin;
    const index = await fetch(`${server.url}/streams/v1/index.json`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('access-control-allow-origin'), '*');
    assert.equal(index.headers.get('cache-control'), 'public, max-age=60, must-revalidate');
    const products = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')).streams.products as string;
    assert.equal((await fetch(`${server.url}/${products}`)).headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${origin}/streams/v1/index.json`)).status, 404, 'not at the root');
    const bare = await fetch(`${origin}/lxd`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/lxd/');
    assert.equal((await fetch(`${server.url}/_headers`)).status, 404, 'host files are not served');
  });

  it('answers the import endpoints under the path, with both header families and architecture negotiation', async () => {
    const catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')) as { aliasEndpoints: Record<string, string> };
    const endpoint = catalog.aliasEndpoints['busybox/1.36/unified']!;
    assert.equal(endpoint, `${server.url}/import/alias/busybox/1.36/unified`);
    for (const [family, arch, marker] of [
      ['LXD', 'x86_64', '/amd64/'],
      ['Incus', 'aarch64', '/arm64/'],
    ] as const) {
      const r = await fetch(endpoint, { method: 'HEAD', headers: { [`${family}-Server-Architectures`]: arch } });
      assert.equal(r.status, 200, `${family} ${arch}`);
      const url = r.headers.get(`${family}-Image-URL`)!;
      assert.ok(url.startsWith(`${server.url}/images/`) && url.includes(marker), url);
      const file = await fetch(url);
      assert.equal(file.status, 200, url);
      assert.equal(file.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    }
    assert.equal((await fetch(`${new URL(server.url).origin}/import/alias/busybox/1.36/unified`, { method: 'HEAD' })).status, 404);
  });

  it('the catalogue and its assets load under the path; verify of the served tree passes', async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:href|src)="(\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.length > 0);
    for (const a of assets) {
      assert.ok(a.startsWith('/lxd/'), `${a} is inside the path`);
      assert.equal((await fetch(`${new URL(server.url).origin}${a}`)).status, 200, a);
    }
    const report = await verifyTree(server.url, { quick: true });
    assert.deepEqual(
      report.problems.filter((p) => p.severity === 'error'),
      [],
    );
  });

  it("writes every host's rules for the path", () => {
    const nginx = readFileSync(path.join(serverConfig, 'nginx-server.conf'), 'utf8');
    const locations = [...nginx.matchAll(/^location (?:= |\^~ |~ \^)(\S+)/gm)].map((m) => m[1]!);
    assert.ok(locations.length > 10);
    for (const l of locations) assert.ok(l.startsWith('/lxd/'), `nginx location ${l}`);
    const caddy = readFileSync(path.join(serverConfig, 'caddy-site.conf'), 'utf8');
    const paths = [...caddy.matchAll(/^@\S+ path (.+)$/gm)].flatMap((m) => m[1]!.split(' '));
    for (const p of paths) assert.ok(p.startsWith('/lxd/'), `Caddy path ${p}`);
    const headers = readFileSync(path.join(out, '_headers'), 'utf8');
    for (const line of headers.split('\n').filter((l) => l.startsWith('/'))) assert.ok(line.startsWith('/lxd/'), `_headers ${line}`);
    assert.match(
      readFileSync(path.join(serverConfig, 'netlify-edge-functions/staticstreams-import.js'), 'utf8'),
      /export const config = \{ path: "\/lxd\/import\/\*" \};/,
    );
    assert.match(readFileSync(path.join(out, '_worker.js'), 'utf8'), /const MAP = \{"base":"\/lxd",/);
  });

  it('with object storage, /lxd/images/ redirects to the bucket', async () => {
    const config = configSchema.parse({ object_storage: { bucket: 'b', public_url: 'https://files.example.org', endpoint: 'http://127.0.0.1:9' } });
    const { renderTargets } = await import('../../generator/render/cdn/targets.js');
    const { blobRedirect } = await import('../../generator/render/bucket-layout.js');
    const catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8'));
    const files = renderTargets(['netlify', 'cloudflare', 'nginx', 'caddy'], catalog, 'amd64', blobRedirect(config.object_storage!));
    assert.equal(files.published.get('_redirects')!.split('\n')[1], '/lxd/images/*  https://files.example.org/images/:splat  302');
    assert.match(
      files.serverConfig.get('nginx-server.conf')!,
      /location \^~ \/lxd\/images\/ \{\n {4}rewrite \^\/lxd\/images\/\(\.\*\)\$ "https:\/\/files\.example\.org\/images\/\$1" redirect;/,
    );
    assert.match(files.serverConfig.get('caddy-site.conf')!, /@ss_lxd_blobs path_regexp ss_lxd_blobs \^\/lxd\/images\/\(\.\*\)\$/);
    assert.match(files.published.get('_worker.js')!, /const BLOBS = \{"from":"\/lxd\/images\/","to":"https:\/\/files\.example\.org\/images\/"\};/);
  });
});
