// The consumers of an image server beyond the two command lines (issue 28): web UIs and
// marketplaces read streams/v1/images.json by its fixed name, cross-origin, often as
// //streams/v1/images.json (an endpoint ending with /). The Chromium fetch from another origin
// and the real hosts are in test/e2e/cdn.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, startPreview } from '../../generator/index.js';
import { tempDir } from '../support/tmp.js';

const indexOf = (tree: string) => JSON.parse(readFileSync(path.join(tree, 'streams/v1/index.json'), 'utf8')) as { index: Record<string, { path: string }> };

describe('streams/v1/images.json', () => {
  it('holds the same products as the file index.json names, which stays content-addressed', async (t) => {
    const dir = await tempDir(t);
    const out = path.join(dir, 'dist');
    await build({ images: path.resolve('images'), out, site: false, baseUrl: 'https://images.example.org' });
    const named = indexOf(out).index.images!.path;
    assert.match(named, /^streams\/v1\/images-[0-9a-f]{16}\.json$/);
    assert.equal(readFileSync(path.join(out, 'streams/v1/images.json'), 'utf8'), readFileSync(path.join(out, named), 'utf8'));
  });

  it('is served with CORS and a short cache by serve and the Cloudflare worker, also as //streams/v1/images.json', async (t) => {
    const dir = await tempDir(t);
    const out = path.join(dir, 'dist');
    await build({ images: path.resolve('images'), out, site: false, baseUrl: 'https://images.example.org', targets: ['netlify', 'cloudflare'] });
    const expected = readFileSync(path.join(out, 'streams/v1/images.json'), 'utf8');
    const server = await startPreview({ dir: out, port: 0 });
    t.after(() => server.close());
    for (const p of ['/streams/v1/images.json', '//streams/v1/images.json', '/streams//v1///images.json']) {
      const res = await fetch(`${server.url}${p}`, { headers: { Origin: 'https://ui.example.net' } });
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('access-control-allow-origin'), '*', `${p}: readable from another origin`);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=60, must-revalidate', `${p}: changes in place, so a short cache`);
      assert.equal(await res.text(), expected, p);
    }
    // The worker hands the static assets a single-slash path.
    const worker = (await import(pathToFileURL(path.join(out, '_worker.js')).href)) as { default: { fetch(r: Request, env: unknown): Promise<Response> } };
    let asked = '';
    await worker.default.fetch(new Request('https://images.example.org//streams/v1/images.json'), {
      ASSETS: { fetch: (r: Request) => ((asked = new URL(r.url).pathname), new Response('x')) },
    });
    assert.equal(asked, '/streams/v1/images.json');
    const headers = readFileSync(path.join(out, '_headers'), 'utf8');
    assert.match(headers, /\/streams\/v1\/images\.json\n {2}Cache-Control: public, max-age=60, must-revalidate/);
  });

  it("replaces an adopted peer's images.json at once (not kept for the grace period)", async (t) => {
    const dir = await tempDir(t);
    const peer = path.join(dir, 'peer');
    await build({ images: path.resolve('images'), out: peer, site: false, baseUrl: 'https://images.example.org' });
    // Shaped as incus-simplestreams writes it: the products file is streams/v1/images.json itself.
    const index = indexOf(peer);
    renameSync(path.join(peer, index.index.images!.path), path.join(peer, 'streams/v1/images.json'));
    index.index.images!.path = 'streams/v1/images.json';
    writeFileSync(path.join(peer, 'streams/v1/index.json'), JSON.stringify(index));
    const out = path.join(dir, 'dist');
    await build({ images: path.resolve('images'), out, site: false, previous: peer, baseUrl: 'https://images.example.org' });
    const named = indexOf(out).index.images!.path;
    assert.notEqual(named, 'streams/v1/images.json');
    assert.equal(readFileSync(path.join(out, 'streams/v1/images.json'), 'utf8'), readFileSync(path.join(out, named), 'utf8'), 'ours, the same products');
    const state = JSON.parse(readFileSync(path.join(out, 'staticstreams-state.json'), 'utf8')) as { grace: { path: string }[] };
    assert.ok(!state.grace.some((g) => g.path === 'streams/v1/images.json'), 'not kept for the grace period');
  });
});
