// render/cdn/import-map.ts and the edge code built from it: the import endpoints each host
// answers, and the architecture negotiation every host must agree on.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildImportMap, type ImportMap } from '../../generator/render/cdn/import-map.js';
import { renderCloudflareWorker, renderNetlifyEdgeFunction, TEMPLATES_DIR } from '../../generator/render/cdn/edge-code.js';
import { tempDir } from '../support/tmp.js';
import { FP_AMD, FP_ARM, FP_VM, importCatalog } from '../support/catalog.js';

async function endpoints(): Promise<(r: Request, m: ImportMap) => Response | null> {
  const mod = await import(pathToFileURL(path.join(TEMPLATES_DIR, 'import-endpoints.js')).href);
  return mod.handleImport;
}

describe('import endpoints', () => {
  it('map only unified images, and nothing without a base URL', () => {
    assert.deepEqual(buildImportMap(importCatalog(), 'amd64').images, {});
    const map = buildImportMap(importCatalog('https://img.example.org/sub/'), 'amd64');
    assert.deepEqual(Object.keys(map.images).sort(), [FP_AMD, FP_ARM, FP_VM]);
    assert.equal(map.images[FP_AMD]!.url, 'https://img.example.org/sub/images/a.tar.gz');
    assert.deepEqual(map.aliases['os/1'], { amd64: FP_AMD, arm64: FP_ARM });
    assert.equal(map.arches.x86_64, 'amd64');
    assert.equal(map.arches.aarch64, 'arm64');
  });

  it('answer per image, per alias and architecture, and by negotiation', async () => {
    const handle = await endpoints();
    const map = buildImportMap(importCatalog('https://img.example.org'), 'amd64');
    const req = (p: string, headers: Record<string, string> = {}, method = 'HEAD') =>
      handle(new Request(`https://img.example.org${p}`, { method, headers }), map)!;

    const one = req(`/import/sha256/${FP_AMD}`);
    assert.equal(one.status, 200);
    assert.equal(one.headers.get('LXD-Image-Hash'), FP_AMD);
    assert.equal(one.headers.get('Incus-Image-Hash'), FP_AMD);
    assert.equal(one.headers.get('LXD-Image-URL'), 'https://img.example.org/images/a.tar.gz');
    assert.equal(one.headers.get('Cache-Control'), 'public, max-age=31536000, immutable');

    const vm = req(`/import/sha256/${FP_VM}`);
    assert.equal(vm.headers.get('LXD-Image-Hash'), null, 'a unified VM is not offered to LXD');
    assert.equal(vm.headers.get('Incus-Image-Hash'), FP_VM);

    assert.equal(req('/import/alias/os/1@arm64').headers.get('LXD-Image-Hash'), FP_ARM);
    assert.equal(req('/import/alias/os/1', { 'LXD-Server-Architectures': 'aarch64, armv7l' }).headers.get('LXD-Image-Hash'), FP_ARM);
    assert.equal(req('/import/alias/os/1', { 'LXD-Server-Architectures': 'x86_64, i686' }).headers.get('LXD-Image-Hash'), FP_AMD);
    assert.equal(req('/import/alias/os/1', { 'Incus-Server-Architectures': 'arm64' }).headers.get('Incus-Image-Hash'), FP_ARM);
    assert.equal(req('/import/alias/os/1', { 'LXD-Server-Architectures': 's390x, armv7l' }).headers.get('LXD-Image-Hash'), null);
    assert.equal(req('/import/alias/os/1/default').headers.get('LXD-Image-Hash'), FP_AMD, 'no header: the default architecture');
    assert.match(req('/import/alias/os/1', { 'LXD-Server-Architectures': 'x86_64' }).headers.get('Vary')!, /LXD-Server-Architectures/);

    const miss = req('/import/alias/os/1', { 'LXD-Server-Architectures': 's390x' }, 'GET');
    assert.equal(miss.status, 404);
    assert.match(await miss.text(), /available: amd64, arm64/);
    assert.equal(req('/import/sha256/' + 'f'.repeat(64)).status, 404);
    assert.equal(req('/import/alias/nope').status, 404);
    assert.equal(req('/import/x', {}, 'POST').status, 405);
    assert.equal(handle(new Request('https://img.example.org/streams/v1/index.json'), map), null, 'other paths pass through');
  });

  it('are inlined into valid edge code for Netlify and Cloudflare', async (t) => {
    const map = buildImportMap(importCatalog('https://img.example.org'), 'amd64');
    const dir = await tempDir(t);
    for (const [name, text] of [
      ['netlify.mjs', renderNetlifyEdgeFunction(map)],
      ['worker.mjs', renderCloudflareWorker(map)],
    ] as const) {
      await writeFile(path.join(dir, name), text);
      const mod = await import(pathToFileURL(path.join(dir, name)).href);
      assert.ok(mod.default, `${name} has a default export`);
    }
    const netlify = await import(pathToFileURL(path.join(dir, 'netlify.mjs')).href);
    assert.deepEqual(netlify.config, { path: '/import/*' });
    const res: Response = await netlify.default(new Request(`https://img.example.org/import/sha256/${FP_ARM}`, { method: 'HEAD' }));
    assert.equal(res.headers.get('LXD-Image-Hash'), FP_ARM);
    assert.equal(await netlify.default(new Request('https://img.example.org/')), undefined, 'other paths go on to the static files');
  });
});

describe('architecture negotiation: one rule for every host', () => {
  // The hosts with code run templates/import-endpoints.js; nginx and Caddy get regular
  // expressions from negotiations(). Both must pick the same architecture for every header.
  const map: ImportMap = { ...buildImportMap({ products: [], baseUrl: 'https://x.example' }, 'amd64'), images: {}, aliases: {} };
  map.aliases = {
    both: { amd64: 'a'.repeat(64), arm64: 'b'.repeat(64) },
    armonly: { arm64: 'c'.repeat(64) },
    nodefault: { arm64: 'd'.repeat(64), s390x: 'e'.repeat(64) },
  };
  const headers: [string, string][] = [
    ['LXD-Server-Architectures', 'x86_64, i686'],
    ['LXD-Server-Architectures', 'aarch64, armv7l'],
    ['LXD-Server-Architectures', 's390x, x86_64'],
    ['LXD-Server-Architectures', 's390x'],
    ['LXD-Server-Architectures', 'sparc, x86_64'],
    ['LXD-Server-Architectures', 'riscv64'],
    ['Incus-Server-Architectures', 'riscv64, aarch64, x86_64'],
    ['Incus-Server-Architectures', 'amd64'],
    ['LXD-Server-Architectures', ''],
  ];
  it('regular expressions (nginx, Caddy) and the edge code agree', async () => {
    const { pickArchitecture } = (await import(pathToFileURL(path.join(TEMPLATES_DIR, 'import-endpoints.js')).href)) as {
      pickArchitecture(request: { headers: Headers }, map: ImportMap, available: Record<string, string>): string | null;
    };
    const { negotiations } = await import('../../generator/render/cdn/import-map.js');
    const table = negotiations(map);
    let compared = 0;
    for (const [name, value] of headers) {
      const lxd = name === 'LXD-Server-Architectures' ? value : '';
      const incus = name === 'Incus-Server-Architectures' ? value : '';
      const joined = `${lxd},${incus}`;
      for (const n of table) {
        for (const alias of n.aliases) {
          const edge = pickArchitecture({ headers: new Headers(value ? { [name]: value } : {}) }, map, map.aliases[alias]!) ?? '';
          const picked = new RegExp(n.pick).exec(joined);
          const listed = picked ? picked[1]! : new RegExp(n.listsKnown).test(joined) ? '' : n.fallback;
          const regex = listed === '' ? '' : (n.names[listed] ?? '');
          assert.equal(regex, edge, `${alias} with ${name}: ${value}`);
          compared++;
        }
      }
    }
    assert.equal(compared, headers.length * 3);
  });
});
