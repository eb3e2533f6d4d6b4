// render/bucket-layout.ts and the redirect rules each host gets for image files on object storage.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllRedirects } from '@netlify/redirect-parser';
import { blobRedirect } from '../../generator/render/bucket-layout.js';
import { renderRedirectsFile, renderTargets } from '../../generator/render/cdn/targets.js';
import { renderCloudflareWorker } from '../../generator/render/cdn/edge-code.js';
import { buildImportMap } from '../../generator/render/cdn/import-map.js';
import { renderNginxServer } from '../../generator/render/cdn/nginx.js';
import { renderCaddySite } from '../../generator/render/cdn/caddy.js';
import { tempDir } from '../support/tmp.js';
import { configSchema, type ObjectStorageSettings } from '../../generator/index.js';

const settings = (o: Partial<ObjectStorageSettings> = {}): ObjectStorageSettings =>
  configSchema.parse({ object_storage: { bucket: 'b', public_url: 'https://files.example.org/', prefix: 'lxd/', ...o } }).object_storage!;

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
