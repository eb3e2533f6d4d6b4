// The second adversarial review (issue 40), private trees and the server's own files: each attack
// through the CLI as a user, a cron job or an attacker meets it, and each failed on the code
// before its fix. A private tree stays private through every later command (prune from cron,
// --previous); no password leaves the command line (mirror of a private upstream, --base-url);
// host files and the server's own files are never answered (nginx under a sub-path, siblings of
// the output); htpasswd files cannot stall the server; serve never publishes a private tree by
// accident; unknown users cost what known ones cost.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { runCli } from '../support/cli.js';
import { requirements } from '../support/require.js';
import { ensureTestTls } from '../support/tls.js';
import { startNginx } from '../support/nginx.js';
import { startCaddy } from '../support/servers.js';
import { freePort } from '../support/server-process.js';
import { startUpstream } from '../support/upstream-server.js';
import { hashTree } from '../support/tree-hash.js';
import { tempDir } from '../support/tmp.js';

const IMAGES = path.resolve('images');
const PASSWORD = 'correct horse battery';
const htpasswdLine = (user: string, cost = 5) => `${user}:${bcrypt.hashSync(PASSWORD, cost).replace(/^\$2b\$/, '$2y$')}\n`;

function filesUnder(root: string, rel = ''): string[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(root, path.join(rel, e.name)) : [path.join(rel, e.name)],
  );
}

/** The files of a tree and its server config that make it private on each host. */
function privacy(out: string, conf: string) {
  const read = (f: string) => readFileSync(f, 'utf8');
  return {
    worker: /const AUTH = \{"users":\{"alice":/.test(read(path.join(out, '_worker.js'))),
    nginx: /auth_basic_user_file/.test(read(path.join(conf, 'nginx-server.conf'))),
    caddy: /basicauth/.test(read(path.join(conf, 'caddy-site.conf'))),
    headers: !/public, max-age/.test(read(path.join(out, '_headers'))),
  };
}

describe('40.1 a private tree stays private through every later command', () => {
  let work: string;
  let out: string;
  let conf: string;
  let htpasswd: string;
  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ss-attack-private-'));
    htpasswd = path.join(work, 'users.htpasswd');
    writeFileSync(htpasswd, htpasswdLine('alice'));
    writeFileSync(
      path.join(work, 'staticstreams.yaml'),
      'base_url: https://images.example.org\ntargets: [cloudflare, nginx, caddy]\nauth:\n  htpasswd: users.htpasswd\nretention:\n  keep: 1\n',
    );
    out = path.join(work, 'dist');
    conf = path.join(work, 'dist-server-config');
    const r = await runCli(['build', '--images', IMAGES, '--out', out, '--no-site'], { cwd: work });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(privacy(out, conf), { worker: true, nginx: true, caddy: true, headers: true });
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('prune from a folder without the config (cron) keeps the worker, nginx, Caddy and Cache-Control private', async () => {
    const cron = path.join(work, 'cron');
    mkdirSync(cron, { recursive: true });
    const r = await runCli(['prune', out, '--no-site'], { cwd: cron });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(privacy(out, conf), { worker: true, nginx: true, caddy: true, headers: true });
  });

  it('without its htpasswd file, prune stops with exit 2 naming it, the tree byte-identical', async () => {
    const cron = path.join(work, 'cron');
    mkdirSync(cron, { recursive: true });
    const moved = `${htpasswd}.away`;
    cpSync(htpasswd, moved);
    rmSync(htpasswd);
    try {
      const before = await hashTree(out);
      const r = await runCli(['prune', out, '--no-site'], { cwd: cron });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /private/);
      assert.ok(r.stderr.includes(htpasswd), r.stderr);
      assert.equal(await hashTree(out), before);
    } finally {
      cpSync(moved, htpasswd);
    }
  });

  it('build --previous of a private tree without auth: exit 2, naming the private tree and the fix', async () => {
    const elsewhere = path.join(work, 'ci');
    mkdirSync(elsewhere, { recursive: true });
    const r = await runCli(['build', '--images', IMAGES, '--previous', out, '--out', path.join(elsewhere, 'dist'), '--no-site', '--target', 'nginx'], {
      cwd: elsewhere,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is private/);
    assert.match(r.stderr, /auth\.htpasswd/);
  });

  it('the state file records that the tree is private but holds no hash', () => {
    const state = readFileSync(path.join(out, 'staticstreams-state.json'), 'utf8');
    assert.match(state, /"auth"/);
    assert.ok(!state.includes('$2y$'), 'no bcrypt hash in the state file');
  });
});

describe('40.2 / 40.18 no password leaves the command line', () => {
  it('mirror https://USER:PASSWORD@host/ uses the credentials for requests only: no file, summary, progress or error shows them', async (t) => {
    const work = await tempDir(t);
    const up = path.join(work, 'up');
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', up, '--no-site'], { cwd: work })).status, 0);
    const upstream = await startUpstream(up);
    t.after(() => upstream.stop());
    const secret = 's3cr3t-Pa55';
    const withCredentials = upstream.url.replace('://', `://mirror-user:${secret}@`);
    const out = path.join(work, 'mirror');
    const r = await runCli(['mirror', withCredentials, '--out', out, '--json'], { cwd: work });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'not in --json nor in the progress lines');
    for (const f of filesUnder(out)) assert.ok(!readFileSync(path.join(out, f), 'latin1').includes(secret), `${f} holds no password`);
    for (const f of readdirSync(work).filter((f) => f.startsWith('.')))
      if (!f.endsWith('.downloads')) assert.ok(!readFileSync(path.join(work, f), 'latin1').includes(secret), `${f} holds no password`);
    // an error that names a URL
    const broken = await runCli(['mirror', `${withCredentials}nothing-here/`, '--out', path.join(work, 'm2'), '--no-site'], { cwd: work });
    assert.equal(broken.status, 1, broken.stderr);
    assert.ok(!broken.stderr.includes(secret), broken.stderr);
    assert.ok(broken.stderr.includes('nothing-here'), 'the URL is still named');
    for (const cmd of [['verify'], ['list']]) {
      const v = await runCli([...cmd, `${withCredentials}nothing-here/`], { cwd: work });
      assert.notEqual(v.status, 0);
      assert.ok(!v.stderr.includes(secret) && !v.stdout.includes(secret), `${cmd[0]}: ${v.stderr}`);
    }
  });

  it('--base-url and base_url with user:password are refused (exit 2), nothing written', async (t) => {
    const work = await tempDir(t);
    const r = await runCli(['build', '--images', IMAGES, '--out', 'dist', '--base-url', 'https://user:pw@images.example.org'], { cwd: work });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--base-url/);
    assert.ok(!r.stderr.includes('pw@'), 'the password is not repeated');
    writeFileSync(path.join(work, 'staticstreams.yaml'), 'base_url: https://user:pw@images.example.org\n');
    const c = await runCli(['build', '--images', IMAGES, '--out', 'dist'], { cwd: work });
    assert.equal(c.status, 2, c.stderr);
    assert.match(c.stderr, /base_url/);
    assert.deepEqual(readdirSync(work), ['staticstreams.yaml']);
  });
});

const nginxSkip = requirements(['nginx', 'curl', 'openssl', 'update-ca-certificates'], { root: true });

/** curl's status for a path, with or without alice's credentials. */
function statusOf(port: number, caCert: string, p: string, credentials: boolean): string {
  return execFileSync(
    'curl',
    ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', caCert, ...(credentials ? ['-u', `alice:${PASSWORD}`] : []), `https://127.0.0.1:${port}${p}`],
    { encoding: 'utf8' },
  );
}

describe('40.7 / 40.17 host files and the server’s own files are never answered', { skip: nginxSkip }, () => {
  it('nginx, a private tree under /lxd built as the README shows: no worker, rules, server config, cache or spare tree to anyone', async (t) => {
    const work = await tempDir(t);
    const port = await freePort();
    const www = path.join(work, 'www');
    mkdirSync(www);
    writeFileSync(path.join(work, 'users.htpasswd'), htpasswdLine('alice'));
    writeFileSync(
      path.join(work, 'staticstreams.yaml'),
      `base_url: https://127.0.0.1:${port}/lxd\ntargets: [nginx, caddy, cloudflare]\nauth:\n  htpasswd: users.htpasswd\n`,
    );
    const build = () => runCli(['build', '--images', IMAGES, '--out', path.join(www, 'lxd'), '--no-site'], { cwd: work });
    assert.equal((await build()).status, 0);
    writeFileSync(path.join(work, 'staticstreams.yaml'), readFileSync(path.join(work, 'staticstreams.yaml'), 'utf8') + 'retention:\n  keep: 1\n');
    const second = await build(); // a second build leaves the spare tree next to the output
    assert.equal(second.status, 0, second.stderr);
    const conf = path.join(www, 'lxd-server-config');
    const tls = ensureTestTls();
    const nginx = await startNginx(www, tls, `include ${conf}/nginx-server.conf;`, `include ${conf}/nginx-http.conf;`, port);
    t.after(() => nginx.stop());
    const served = readdirSync(www).filter((f) => f !== 'lxd');
    t.diagnostic(`next to the output: ${served.join(', ')}`);
    const paths = [
      '/lxd/_worker.js',
      '/lxd/_headers',
      '/lxd-server-config/caddy-site.conf',
      '/lxd-server-config/nginx-server.conf',
      '/.lxd.cache.json',
      ...served.filter((f) => f.startsWith('.lxd.spare')).map((f) => `/${f}/streams/v1/index.json`),
    ];
    for (const p of paths) {
      assert.notEqual(statusOf(port, tls.caCert, p, true), '200', `${p} with credentials`);
      assert.notEqual(statusOf(port, tls.caCert, p, false), '200', `${p} without`);
    }
    assert.equal(statusOf(port, tls.caCert, '/lxd/streams/v1/index.json', true), '200', 'the tree itself is served');
    // Only the worker needs the hashes: nowhere else in the output.
    const hash = readFileSync(path.join(work, 'users.htpasswd'), 'utf8').trim().split(':')[1]!;
    for (const f of filesUnder(path.join(www, 'lxd'))) if (f !== '_worker.js') assert.ok(!readFileSync(path.join(www, 'lxd', f), 'latin1').includes(hash), f);
  });

  it('Caddy, the same tree: its snippet (with the hashes) and the siblings are not served', { skip: requirements(['caddy', 'curl']) }, async (t) => {
    const work = await tempDir(t);
    const port = await freePort();
    const www = path.join(work, 'www');
    mkdirSync(www);
    writeFileSync(path.join(work, 'users.htpasswd'), htpasswdLine('alice'));
    writeFileSync(path.join(work, 'staticstreams.yaml'), `base_url: https://127.0.0.1:${port}/lxd\ntargets: [caddy]\nauth:\n  htpasswd: users.htpasswd\n`);
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', path.join(www, 'lxd'), '--no-site'], { cwd: work })).status, 0);
    const tls = ensureTestTls();
    const conf = path.join(www, 'lxd-server-config', 'caddy-site.conf');
    const caddy = await startCaddy(www, port, tls, conf);
    t.after(() => caddy.stop());
    for (const p of ['/lxd-server-config/caddy-site.conf', '/.lxd.cache.json']) {
      assert.notEqual(statusOf(port, tls.caCert, p, true), '200', `${p} with credentials`);
      assert.notEqual(statusOf(port, tls.caCert, p, false), '200', `${p} without`);
    }
    assert.equal(statusOf(port, tls.caCert, '/lxd/streams/v1/index.json', true), '200');
  });

  it('a base path with a regex metacharacter (/a+b) still hides the host files', async (t) => {
    const work = await tempDir(t);
    const port = await freePort();
    const www = path.join(work, 'www');
    mkdirSync(www);
    const r = await runCli(
      ['build', '--images', IMAGES, '--out', path.join(www, 'a+b'), '--no-site', '--target', 'nginx,cloudflare', '--base-url', `https://127.0.0.1:${port}/a+b`],
      { cwd: work },
    );
    assert.equal(r.status, 0, r.stderr);
    const conf = path.join(www, 'a+b-server-config');
    const tls = ensureTestTls();
    const nginx = await startNginx(www, tls, `include ${conf}/nginx-server.conf;`, `include ${conf}/nginx-http.conf;`, port);
    t.after(() => nginx.stop());
    assert.equal(statusOf(port, tls.caCert, '/a+b/_worker.js', false), '404');
    assert.equal(statusOf(port, tls.caCert, '/a+b/streams/v1/index.json', false), '200');
  });
});

describe('40.14 htpasswd costs a server cannot afford', () => {
  it('a bcrypt cost outside 4–14 is refused naming the line (build and serve), and over 12 for Cloudflare', async (t) => {
    const work = await tempDir(t);
    const file = path.join(work, 'users.htpasswd');
    const hash = bcrypt.hashSync(PASSWORD, 4).replace(/^\$2b\$04\$/, '$2y$31$');
    writeFileSync(file, `alice:${hash}\n`);
    writeFileSync(path.join(work, 'staticstreams.yaml'), 'targets: [nginx]\nauth:\n  htpasswd: users.htpasswd\n');
    const r = await runCli(['build', '--images', IMAGES, '--out', 'dist', '--no-site'], { cwd: work });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /line 1 \(alice\).*cost 31/);
    const s = await runCli(['serve', IMAGES, '--port', '0', '--htpasswd', file], { cwd: work, timeoutMs: 10_000 });
    assert.equal(s.status, 2, s.stderr);
    assert.match(s.stderr, /cost 31/);
    writeFileSync(file, htpasswdLine('alice', 13));
    writeFileSync(path.join(work, 'staticstreams.yaml'), 'targets: [cloudflare]\nauth:\n  htpasswd: users.htpasswd\n');
    const c = await runCli(['build', '--images', IMAGES, '--out', 'dist', '--no-site'], { cwd: work });
    assert.equal(c.status, 2, c.stderr);
    assert.match(c.stderr, /cost 13/);
  });
});

describe('40.15 serve never publishes a private tree by accident', () => {
  it('serve DIR of a private tree without --htpasswd: exit 2; --public serves it', async (t) => {
    const work = await tempDir(t);
    writeFileSync(path.join(work, 'users.htpasswd'), htpasswdLine('alice'));
    writeFileSync(path.join(work, 'staticstreams.yaml'), 'targets: [nginx]\nauth:\n  htpasswd: users.htpasswd\n');
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', 'dist', '--no-site'], { cwd: work })).status, 0);
    const r = await runCli(['serve', 'dist', '--port', '0'], { cwd: work, timeoutMs: 10_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /private/);
    assert.match(r.stderr, /--htpasswd/);
    const p = await runCli(['serve', 'dist', '--port', '0', '--public'], { cwd: work, timeoutMs: 3_000 });
    assert.match(p.stdout, /serving dist at/, p.stderr);
  });
});

describe('40 (also) unknown htpasswd users cost what known ones cost', () => {
  it('serve answers an unknown user no faster than a known user with a wrong password', async (t) => {
    const work = await tempDir(t);
    writeFileSync(path.join(work, 'users.htpasswd'), htpasswdLine('alice', 10));
    const { startPreview } = await import('../../generator/index.js');
    const { parseHtpasswd } = await import('../../generator/config/htpasswd.js');
    const server = await startPreview({ dir: IMAGES, port: 0, users: parseHtpasswd(readFileSync(path.join(work, 'users.htpasswd'), 'utf8'), 'users') });
    t.after(() => server.close());
    const timed = async (user: string) => {
      const started = process.hrtime.bigint();
      const r = await fetch(`${server.url}/x`, { headers: { Authorization: `Basic ${Buffer.from(`${user}:wrong`).toString('base64')}` } });
      assert.equal(r.status, 401);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await timed('alice'));
      unknown.push(await timed(`mallory${i}`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
    t.diagnostic(`known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`);
    assert.ok(median(unknown) > median(known) / 2, 'an unknown user is checked against a hash too');
  });
});

describe('40 (kept) refusals the review saw hold, written down', () => {
  it('serve --base-path never answers a file outside the output, however the path is spelt', async (t) => {
    const work = await tempDir(t);
    const out = path.join(work, 'out');
    mkdirSync(out);
    writeFileSync(path.join(out, 'inside.txt'), 'inside\n');
    writeFileSync(path.join(work, 'secret.txt'), 'outside\n');
    const { startPreview } = await import('../../generator/index.js');
    const server = await startPreview({ dir: out, port: 0, basePath: '/lxd' });
    t.after(() => server.close());
    const origin = new URL(server.url).origin;
    assert.equal((await fetch(`${origin}/lxd/inside.txt`)).status, 200);
    for (const p of [
      '/lxd/../secret.txt',
      '/lxd/%2e%2e/secret.txt',
      '/lxd/..%2fsecret.txt',
      '/lxd/%2E%2E%2Fsecret.txt',
      '/secret.txt',
      '/lxd//../secret.txt',
    ]) {
      const r = await fetch(`${origin}${p}`);
      const body = await r.text();
      assert.ok(!body.includes('outside'), `${p}: ${r.status}`);
    }
  });

  it('mirror sends the credentials of https://USER:PASSWORD@A to A only: never to another origin a redirect names', async (t) => {
    const work = await tempDir(t);
    const tree = path.join(work, 'up');
    assert.equal((await runCli(['build', '--images', IMAGES, '--out', tree, '--no-site'], { cwd: work })).status, 0);
    const http = await import('node:http');
    const seen: { server: string; path: string; auth?: string }[] = [];
    const serve = (name: string, redirectTo?: () => string) =>
      http.createServer((req, res) => {
        const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
        seen.push({ server: name, path: p, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
        if (redirectTo && p.startsWith('/images/')) {
          res.writeHead(302, { Location: `${redirectTo()}${p}` }).end();
          return;
        }
        try {
          res.end(readFileSync(path.join(tree, p)));
        } catch {
          res.writeHead(404).end();
        }
      });
    const b = serve('B');
    await new Promise<void>((r) => b.listen(0, '127.0.0.1', r));
    const bUrl = `http://localhost:${(b.address() as import('node:net').AddressInfo).port}`;
    const a = serve('A', () => bUrl);
    await new Promise<void>((r) => a.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => a.close(() => b.close(r))));
    const aUrl = `http://alice:${encodeURIComponent(PASSWORD)}@127.0.0.1:${(a.address() as import('node:net').AddressInfo).port}/`;
    const r = await runCli(['mirror', aUrl, '--out', path.join(work, 'mirror'), '--no-site'], { cwd: work });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(
      seen.some((s) => s.server === 'A' && s.auth?.startsWith('Basic ')),
      'A gets the credentials',
    );
    assert.ok(
      seen.some((s) => s.server === 'B'),
      'the image files come from B',
    );
    assert.deepEqual(
      seen.filter((s) => s.server === 'B' && s.auth),
      [],
      'B never gets them',
    );
  });
});
