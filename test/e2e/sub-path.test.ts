// A tree published under a path of an existing site (https://HOST/lxd/), on all four real hosts:
// nginx and Caddy serve a site root that holds other things and the output as lxd/ (the
// generated snippets included in that server block); wrangler's workerd serves the deploy folder
// of the README's recipe (the output as lxd/, its _headers and _worker.js moved to the root);
// `staticstreams serve` mounts the output under its base URL's path. On each: the indexes with
// their headers, import endpoints with architecture negotiation, `doctor` with the path, and real
// LXD and Incus adding https://HOST/lxd as a remote, listing every image and importing through
// the alias endpoint; a container launched from the nginx-served remote by each client.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requirements } from '../support/require.js';
import { ensureTestTls, type TestTls } from '../support/tls.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { startNginx } from '../support/nginx.js';
import { startCaddy, startServe, startWrangler } from '../support/servers.js';
import { CLIENTS, clientRequirements, type Client, readInContainer } from '../support/clients.js';
import { build, type Catalog } from '../../generator/index.js';

const skip = requirements(['nginx', 'caddy', 'curl', 'openssl', 'update-ca-certificates'], { root: true });
const clientSkip = (client: Client) => clientRequirements(client, []);
const BIN = path.resolve('bin/staticstreams.js');

function curlHead(url: string, tls: TestTls, headers: Record<string, string> = {}): { status: number; headers: Record<string, string> } {
  const text = execFileSync('curl', ['-sS', '-I', '--cacert', tls.caCert, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url], {
    encoding: 'utf8',
  });
  const lines = text.trim().split(/\r?\n/);
  const out: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(lines[0]!.split(' ')[1]), headers: out };
}

/** How each host is given a tree built into SITE/lxd (the site root holding other things too). */
type Start = (site: string, port: number, tls: TestTls, conf: string) => Promise<RunningServer>;
const HOSTS: [string, Start][] = [
  [
    'nginx (the snippets inside the site’s server block)',
    (site, port, tls, conf) => startNginx(site, tls, `include ${conf}/nginx-server.conf;`, `include ${conf}/nginx-http.conf;`, port),
  ],
  ['Caddy (the snippet inside the site block)', (site, port, tls, conf) => startCaddy(site, port, tls, path.join(conf, 'caddy-site.conf'))],
  ['staticstreams serve (mounted at the base URL’s path)', (site, port, tls) => startServe(path.join(site, 'lxd'), port, tls)],
  [
    'Cloudflare Pages (wrangler pages dev: the deploy folder of docs/hosts.md)',
    async (site, port, tls) => {
      // docs/hosts.md, "A tree under a path", run as written: the deploy folder holds the output as lxd/, its host files at the root.
      const recipe = readFileSync(path.resolve('docs/hosts.md'), 'utf8')
        .split('\n')
        .find((l) => l.includes('mkdir -p deploy && cp -al dist deploy/lxd'))!
        .trim();
      const cwd = `${site}-wrangler`;
      mkdirSync(cwd);
      cpSync(path.join(site, 'lxd'), path.join(cwd, 'dist'), { recursive: true });
      execFileSync('sh', ['-c', recipe], { cwd });
      const deploy = path.join(cwd, 'deploy');
      assert.ok(existsSync(path.join(deploy, '_worker.js')) && !existsSync(path.join(deploy, 'lxd', '_worker.js')));
      return startWrangler(deploy, port, tls);
    },
  ],
];

describe('a tree under a path of an existing site, on four real hosts', { skip }, () => {
  let tls: TestTls;
  let work: string;
  before(() => {
    tls = ensureTestTls();
    for (const client of CLIENTS) if (!clientSkip(client)) client.ensure(tls.newlyTrusted);
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-subpath-e2e-'));
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const [label, start] of HOSTS) {
    describe(label, () => {
      let server: RunningServer;
      let base: string;
      let catalog: Catalog;
      const id = randomBytes(3).toString('hex');

      before(async () => {
        const port = await freePort();
        base = `https://127.0.0.1:${port}/lxd`;
        const site = path.join(work, `site-${id}`);
        mkdirSync(site);
        writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>another site</title><p>the rest of the site</p>\n');
        const conf = path.join(work, `conf-${id}`);
        await build({
          images: path.resolve('images'),
          out: path.join(site, 'lxd'),
          baseUrl: base,
          targets: ['netlify', 'cloudflare', 'nginx', 'caddy'],
          serverConfig: conf,
          env: {},
        });
        catalog = JSON.parse(readFileSync(path.join(site, 'lxd', 'catalog.json'), 'utf8')) as Catalog;
        server = await start(site, port, tls, conf);
      });
      after(async () => server?.stop());

      it('serves the indexes, files and import endpoints under the path, with their headers', () => {
        const index = curlHead(`${base}/streams/v1/index.json`, tls);
        assert.equal(index.status, 200);
        assert.equal(index.headers['cache-control'], 'public, max-age=60, must-revalidate');
        assert.equal(index.headers['access-control-allow-origin'], '*');
        const products = curlHead(`${base}/${catalog.streams.products}`, tls);
        assert.equal(products.headers['cache-control'], 'public, max-age=31536000, immutable');
        const endpoint = catalog.aliasEndpoints['busybox/1.36/unified']!;
        assert.equal(endpoint, `${base}/import/alias/busybox/1.36/unified`);
        const arm = curlHead(endpoint, tls, { 'LXD-Server-Architectures': 'aarch64' });
        assert.equal(arm.status, 200);
        assert.match(arm.headers['lxd-image-url']!, new RegExp(`^${base.replace(/[.]/g, '\\.')}/images/busybox/1\\.36/arm64/unified/`));
        const incus = curlHead(endpoint, tls, { 'Incus-Server-Architectures': 'x86_64' });
        assert.match(incus.headers['incus-image-url']!, /\/lxd\/images\/busybox\/1\.36\/amd64\/unified\//);
        assert.equal(curlHead(`${base}/import/alias/nothing-here`, tls).status, 404);
        assert.notEqual(curlHead(`${base}/_headers`, tls).status, 200);
      });

      it('doctor URL/lxd finds nothing wrong', () => {
        const r = spawnSync(process.execPath, [BIN, 'doctor', base], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /^ok: .*: 0 errors/m);
      });

      for (const client of CLIENTS) {
        describe(`with real ${client.label}`, { skip: clientSkip(client) }, () => {
          const remote = `ss-sub-${randomBytes(3).toString('hex')}`;
          const container = `ss-sub-${randomBytes(3).toString('hex')}`;
          after(() =>
            client.cleanup([
              ['delete', '--force', container],
              ['remote', 'remove', remote],
            ]),
          );

          it(`adds ${'https://HOST/lxd'} as a remote, lists every image and imports through the alias endpoint`, () => {
            client.run(['remote', 'add', remote, base, '--protocol', 'simplestreams', '--accept-certificate']);
            const listed = JSON.parse(client.run(['image', 'list', `${remote}:`, '--format', 'json'])) as { fingerprint: string }[];
            const all = catalog.products.flatMap((p) => p.versions.flatMap((v) => v.images.map((i) => i.fingerprint))).sort();
            assert.deepEqual(listed.map((i) => i.fingerprint).sort(), all);
            const unified = catalog.products.find((p) => p.arch === 'amd64' && p.aliases.includes('busybox/1.36/unified'))!.versions[0]!.images[0]!;
            client.cleanup([['image', 'delete', `local:${unified.fingerprint}`]]);
            client.run(['image', 'import', catalog.aliasEndpoints['busybox/1.36/unified']!]);
            assert.match(client.run(['image', 'info', `local:${unified.fingerprint}`]), /Architecture: x86_64/);
            client.cleanup([['image', 'delete', `local:${unified.fingerprint}`]]);
          });

          if (label.startsWith('nginx'))
            it('launches a container from the remote under the path', () => {
              client.run(['launch', `${remote}:busybox/1.36`, container]);
              assert.equal(readInContainer(client, container, '/marker').trim(), 'staticstreams-sample');
            });
        });
      }
    });
  }
});
