// A private tree (auth.htpasswd): the build writes basic auth into the nginx and Caddy config and
// the Cloudflare worker (never a password, and no hash on a path a client can fetch), marks every
// Cache-Control private, refuses the host and the bucket that cannot keep it private (exit 2,
// nothing written), and `serve --htpasswd` answers 401 on every kind of path without valid
// credentials. Real LXD and Incus with https://USER:PASSWORD@… on nginx, Caddy, wrangler and
// serve, and doctor's port-80 error, are in test/e2e/private.test.ts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { startPreview, type RunningPreview } from '../../generator/index.js';
// Internal: the users serve checks, read from the htpasswd file as the CLI reads them.
import { parseHtpasswd } from '../../generator/config/htpasswd.js';
import { runCli } from '../support/cli.js';
import { requirements } from '../support/require.js';
import { ensureTestTls } from '../support/tls.js';
import { startNginx } from '../support/nginx.js';
import { freePort } from '../support/server-process.js';
import { execFileSync } from 'node:child_process';

const IMAGES = path.resolve('images');
const PASSWORD = 'correct horse battery';

function filesUnder(root: string, rel = ''): string[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(root, path.join(rel, e.name)) : [path.join(rel, e.name)],
  );
}

describe('a private tree', () => {
  let work: string;
  let htpasswd: string;
  let hash: string;
  let out: string;
  let conf: string;
  let server: RunningPreview;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ss-private-'));
    hash = bcrypt.hashSync(PASSWORD, 8).replace(/^\$2b\$/, '$2y$'); // as htpasswd -B writes it
    htpasswd = path.join(work, 'users.htpasswd');
    writeFileSync(htpasswd, `alice:${hash}\n`);
    writeFileSync(
      path.join(work, 'staticstreams.yaml'),
      `base_url: https://images.example.org\ntargets: [nginx, caddy, cloudflare]\nauth:\n  htpasswd: users.htpasswd\n`,
    );
    out = path.join(work, 'dist');
    conf = path.join(work, 'dist-server-config');
    const r = await runCli(['build', '--images', IMAGES, '--out', out], { cwd: work });
    assert.equal(r.status, 0, r.stderr);
    server = await startPreview({ dir: out, port: 0, users: parseHtpasswd(readFileSync(htpasswd, 'utf8'), htpasswd) });
  });
  after(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes basic auth into the nginx and Caddy config and the worker, and no password or hash into anything a client can fetch', () => {
    const nginx = readFileSync(path.join(conf, 'nginx-server.conf'), 'utf8');
    assert.match(nginx, new RegExp(`^auth_basic "Image server";\\nauth_basic_user_file "${htpasswd.replace(/[.]/g, '\\.')}";`, 'm'));
    // every answering location asks first and hands over to a named one after the access phase
    // (the negotiating alias locations only rewrite to one of those)
    assert.doesNotMatch(nginx, /location = \/import\/[^{]*\{\n(?! {4}(?:auth_basic|rewrite))/);
    assert.match(nginx, /try_files \/\.staticstreams-none @staticstreams_\d+;/);
    const caddy = readFileSync(path.join(conf, 'caddy-site.conf'), 'utf8');
    assert.ok(caddy.includes(`basicauth {\n\talice ${hash}\n}`), caddy);
    // The worker holds the hashes: Cloudflare Pages runs it and never serves it (nor do nginx,
    // Caddy or serve: their rules answer 404 for it; checked below and in the e2e test).
    const worker = readFileSync(path.join(out, '_worker.js'), 'utf8');
    assert.ok(worker.includes(`const AUTH = {"users":{"alice":"${hash}"}};`), 'the worker checks alice');
    assert.match(worker, /bcrypt\.js 3\.\d+\.\d+ \(https:\/\/github\.com\/dcodeIO\/bcrypt\.js\), inlined unchanged:\n\/\*\nbcrypt\.js\n---------\nCopyright/);
    for (const f of filesUnder(out)) {
      const text = readFileSync(path.join(out, f), 'latin1');
      assert.ok(!text.includes(PASSWORD), `${f} holds no password`);
      if (f !== '_worker.js') assert.ok(!text.includes(hash), `${f} holds no hash`);
    }
  });

  it('marks every Cache-Control private on every host (a shared cache must not keep what credentials fetched)', async () => {
    const texts = {
      nginx: readFileSync(path.join(conf, 'nginx-server.conf'), 'utf8'),
      caddy: readFileSync(path.join(conf, 'caddy-site.conf'), 'utf8'),
      _headers: readFileSync(path.join(out, '_headers'), 'utf8'),
    };
    // the worker's import endpoints: from its map
    assert.match(readFileSync(path.join(out, '_worker.js'), 'utf8'), /^const MAP = \{.*,"private":true\};$/m);
    for (const [name, text] of Object.entries(texts)) {
      assert.match(text, /private, max-age=(?:60|31536000)/, name);
      assert.doesNotMatch(text, /public, max-age/, name);
    }
    const get = (p: string) => fetch(`${server.url}/${p}`, { headers: { Authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}` } });
    for (const p of ['streams/v1/index.json', 'import/alias/busybox/1.36/unified', 'catalog.json']) {
      const r = await get(p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('cache-control') ?? '', /^private, /, p);
    }
    assert.equal((await get('_worker.js')).status, 404, 'serve never serves the worker');
  });

  it('warns when Cloudflare would spend more CPU on a bcrypt check than its free plan allows', async () => {
    for (const [cost, warned] of [
      [7, false],
      [8, true],
    ] as const) {
      const file = path.join(work, `cost${cost}.htpasswd`);
      writeFileSync(file, `alice:${bcrypt.hashSync(PASSWORD, cost)}\n`);
      const config = path.join(work, `cost${cost}.yaml`);
      writeFileSync(config, `base_url: https://images.example.org\ntargets: [cloudflare]\nauth:\n  htpasswd: ${file}\n`);
      const r = await runCli(['build', '--images', IMAGES, '--out', path.join(work, `cost${cost}`), '--config', config, '--no-site'], { cwd: work });
      assert.equal(r.status, 0, r.stderr);
      const warning = /the worker checks a bcrypt hash of cost 8 in about 17 ms of CPU .* the Workers Free plan stops a request after 10 ms/;
      if (warned) assert.match(r.stderr, warning);
      else assert.doesNotMatch(r.stderr, /Workers Free plan/);
    }
  });

  it('the catalogue gives the commands with USER:PASSWORD placeholders and the port-80 warning', () => {
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.ok(html.includes('lxc remote add example https://USER:PASSWORD@images.example.org --protocol simplestreams'), 'remote add with placeholders');
    assert.match(html, /must not listen on port 80/);
  });

  it('serve --htpasswd answers 401 on every kind of path without valid credentials, and serves them with', async () => {
    const catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8'));
    const image = catalog.products[0].versions[0].images[0].files[0].path as string;
    const paths = [
      'streams/v1/index.json',
      catalog.streams.products,
      'streams/v1/images.json',
      image,
      'catalog.json',
      '',
      'feed.xml',
      'pagefind/pagefind.js',
      'import/alias/busybox/1.36/unified',
    ];
    const basic = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
    for (const p of paths) {
      const none = await fetch(`${server.url}/${p}`);
      assert.equal(none.status, 401, `/${p} without credentials`);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      assert.equal((await fetch(`${server.url}/${p}`, { headers: basic('alice', 'wrong') })).status, 401, `/${p} with a wrong password`);
      assert.equal((await fetch(`${server.url}/${p}`, { headers: basic('mallory', PASSWORD) })).status, 401, `/${p} as an unknown user`);
    }
    for (const p of paths.slice(0, -1))
      assert.equal((await fetch(`${server.url}/${p}`, { headers: basic('alice', PASSWORD) })).status, 200, `/${p} with credentials`);
  });

  it(
    'under a path of a site that serves other things (nginx): only the tree asks for credentials',
    { skip: requirements(['nginx', 'curl', 'openssl', 'update-ca-certificates'], { root: true }) },
    async () => {
      const port = await freePort();
      const site = path.join(work, 'site');
      mkdirSync(site);
      writeFileSync(path.join(site, 'index.html'), 'the rest of the site\n');
      writeFileSync(path.join(work, 'sub.yaml'), `base_url: https://127.0.0.1:${port}/lxd\ntargets: [nginx]\nauth:\n  htpasswd: users.htpasswd\n`);
      const conf = path.join(work, 'sub-conf');
      const r = await runCli(
        ['build', '--images', IMAGES, '--out', path.join(site, 'lxd'), '--config', path.join(work, 'sub.yaml'), '--server-config', conf, '--no-site'],
        { cwd: work },
      );
      assert.equal(r.status, 0, r.stderr);
      const tls = ensureTestTls();
      const nginx = await startNginx(site, tls, `include ${conf}/nginx-server.conf;`, `include ${conf}/nginx-http.conf;`, port);
      try {
        const code = (p: string, credentials: boolean) =>
          execFileSync(
            'curl',
            [
              '-s',
              '-o',
              '/dev/null',
              '-w',
              '%{http_code}',
              '--cacert',
              tls.caCert,
              ...(credentials ? ['-u', `alice:${PASSWORD}`] : []),
              '-H',
              'LXD-Server-Architectures: x86_64',
              `https://127.0.0.1:${port}${p}`,
            ],
            {
              encoding: 'utf8',
            },
          );
        for (const p of ['/lxd/streams/v1/index.json', '/lxd/catalog.json', '/lxd/import/alias/busybox/1.36/unified', '/lxd/import/nothing', '/lxd/_headers'])
          assert.equal(code(p, false), '401', p);
        for (const p of ['/lxd/streams/v1/index.json', '/lxd/catalog.json', '/lxd/import/alias/busybox/1.36/unified']) assert.equal(code(p, true), '200', p);
        assert.equal(code('/', false), '200', 'the rest of the site is not affected');
      } finally {
        await nginx.stop();
      }
    },
  );

  it('refuses the host and the bucket that cannot keep it private, with exit 2 and nothing written', async () => {
    const cases: [string, string, RegExp][] = [
      ['netlify', 'targets: [netlify]', /auth with --target netlify: Netlify serves the files itself/],
      [
        'bucket',
        'targets: [nginx]\nobject_storage:\n  bucket: b\n  public_url: https://files.example.org',
        /auth with object_storage: \/images\/ would redirect private clients to the bucket's public URL/,
      ],
    ];
    for (const [name, yaml, message] of cases) {
      const dir = path.join(work, `refused-${name}`);
      const config = path.join(work, `${name}.yaml`);
      writeFileSync(config, `${yaml}\nauth:\n  htpasswd: users.htpasswd\n`);
      const r = await runCli(['build', '--images', IMAGES, '--out', dir, '--config', config], { cwd: work });
      assert.equal(r.status, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.ok(!existsSync(dir), `${name}: nothing written`);
    }
    writeFileSync(path.join(work, 'weak.htpasswd'), 'alice:$apr1$abcdefgh$ijklmnopqrstuvwxyz0123\n');
    writeFileSync(path.join(work, 'weak.yaml'), 'targets: [nginx]\nauth:\n  htpasswd: weak.htpasswd\n');
    const weak = await runCli(['build', '--images', IMAGES, '--out', path.join(work, 'weak'), '--config', path.join(work, 'weak.yaml')], { cwd: work });
    assert.equal(weak.status, 2);
    assert.match(weak.stderr, /line 1 \(alice\): not a bcrypt hash/);
    assert.ok(!weak.stderr.includes('$apr1$abcdefgh'), 'the hash is not printed');
  });
});
