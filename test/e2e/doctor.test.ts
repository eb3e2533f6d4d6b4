// `staticstreams doctor URL` against real servers: the generated rules on `staticstreams serve`,
// nginx, Caddy and wrangler (workerd) pass; deliberately broken set-ups are each caught with their
// fix — nginx with TLS 1.2 only, a certificate the system does not trust, nginx without the
// generated snippets (no CORS, import endpoints without headers), a port 80 that accepts and never
// answers, and a redirect to a bucket that answers 404. No image is downloaded.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { requirements } from '../support/require.js';
import { ensureTestTls, type TestTls } from '../support/tls.js';
import { startNginx } from '../support/nginx.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { buildForHosts, HOSTS } from '../support/hosts.js';
import { startServe } from '../support/servers.js';
import { startS3, type LocalBucket } from '../support/s3.js';
import { build, configSchema, type Config } from '../../generator/index.js';
import { cleanupKey, makeKey } from '../support/gpg.js';

const skip = requirements(['nginx', 'caddy', 'openssl', 'update-ca-certificates', 'gpg'], { root: true });
const BIN = path.resolve('bin/staticstreams.js');

interface Report {
  ok: boolean;
  findings: { severity: string; check: string; message: string; fix?: string }[];
}

function runDoctor(url: string, extra: string[] = []): { status: number; report: Report; text: string } {
  const r = spawnSync(process.execPath, [BIN, 'doctor', url, '--json', ...extra], { encoding: 'utf8', timeout: 60_000 });
  const text = spawnSync(process.execPath, [BIN, 'doctor', url, ...extra], { encoding: 'utf8', timeout: 60_000 }).stdout;
  return { status: r.status ?? -1, report: JSON.parse(r.stdout) as Report, text };
}
const errorsOf = (r: Report) => r.findings.filter((f) => f.severity === 'error');

describe('staticstreams doctor', { skip }, () => {
  let tls: TestTls;
  let work: string;
  const servers: RunningServer[] = [];

  before(() => {
    tls = ensureTestTls();
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-doctor-'));
    cpSync(path.resolve('images'), path.join(work, 'images'), { recursive: true });
  });
  after(async () => {
    for (const s of servers) await s.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const built = (name: string, port: number, config?: Config) => buildForHosts(path.join(work, 'images'), work, name, port, { config });

  it('#12 keeps every finding when catalog.json answers 200 with HTML (a single-page-app fallback)', async () => {
    const port = await freePort();
    const { out } = await built(`html-catalog-${servers.length}`, port);
    writeFileSync(path.join(out, 'catalog.json'), '<!doctype html><html><body>app shell</body></html>\n');
    const server = await startServe(out, port, tls);
    servers.push(server);
    const { status, report, text } = runDoctor(server.url);
    assert.equal(status, 0, text);
    assert.deepEqual(errorsOf(report), [], text);
    for (const check of ['tls', 'index', 'products', 'image files'])
      assert.ok(
        report.findings.some((f) => f.check === check && f.severity === 'ok'),
        `${check} still reported: ${text}`,
      );
    assert.ok(
      report.findings.some((f) => f.check === 'import endpoints' && /no staticstreams catalog\.json/.test(f.message)),
      text,
    );
    assert.doesNotMatch(text, /nothing was published|Unexpected token/);
  });

  it('warns when streams/v1/images.json, the fixed name web UIs and marketplaces read, is missing or stale', async () => {
    for (const damage of ['missing', 'stale'] as const) {
      const port = await freePort();
      const { out } = await built(`consumers-${damage}-${servers.length}`, port);
      const fixed = path.join(out, 'streams/v1/images.json');
      if (damage === 'missing') rmSync(fixed);
      else writeFileSync(fixed, JSON.stringify({ format: 'products:1.0', datatype: 'image-downloads', content_id: 'images', products: {} }));
      const server = await startServe(out, port, tls);
      servers.push(server);
      const { status, report, text } = runDoctor(server.url);
      assert.equal(status, 0, 'a warning, not an error: LXD and Incus are not affected');
      const warning = report.findings.find((f) => f.check === 'consumers' && f.severity === 'warning');
      assert.ok(warning, text);
      assert.match(warning.message, damage === 'missing' ? /^streams\/v1\/images\.json answers 404$/ : /is not the products file the index names/);
      assert.ok(
        report.findings.some((f) => f.check === 'consumers' && f.severity === 'ok' && /^\/\/streams/.test(f.message)),
        text,
      );
    }
  });

  it('reports a signed server: by which key, the chain complete; a foreign keyring fails; an index.sjson left from an older build is an error with the keyring, a warning without', async () => {
    const key = makeKey(work);
    const other = makeKey(work, { name: 'Other <other@example.org>' });
    try {
      const port = await freePort();
      const env = { STATICSTREAMS_SIGNING_KEY: key.secret };
      const { out } = await buildForHosts(path.join(work, 'images'), work, `signed-${servers.length}`, port, { env, site: false });
      const server = await startServe(out, port, tls);
      servers.push(server);
      const plain = runDoctor(server.url);
      assert.equal(plain.status, 0, plain.text);
      const own = plain.report.findings.find((f) => f.check === 'signatures')!;
      assert.equal(own.severity, 'ok', plain.text);
      assert.match(own.message, new RegExp(`^signed by ${key.fingerprint} \\(the server's own signing-key\\.asc \\(not trusted`));
      const trusted = runDoctor(server.url, ['--keyring', key.keyring]);
      assert.equal(trusted.status, 0, trusted.text);
      assert.match(
        trusted.text,
        new RegExp(`ok: signatures: signed by ${key.fingerprint} \\(a key in --keyring\\); the chain from streams/v1/index\\.sjson verifies throughout`),
      );
      const foreign = runDoctor(server.url, ['--keyring', other.keyring]);
      assert.equal(foreign.status, 1, foreign.text);
      assert.match(foreign.text, /error: signatures: streams\/v1\/index\.sjson: signed by the key [0-9A-F]{16}, which is not in the keyring/);
      // a mirror that copied index.json and not index.sjson: the signed index is an older build's
      const older = path.join(work, `signed-older-${servers.length}`);
      await build({ images: path.join(work, 'images/busybox'), out: older, site: false, env });
      for (const f of readdirSync(path.join(older, 'streams/v1')).filter((n) => n === 'index.sjson' || /^images-.*\.sjson$/.test(n)))
        cpSync(path.join(older, 'streams/v1', f), path.join(out, 'streams/v1', f));
      // with the publisher's key it is an error (what clients read is not what was signed); without, a warning
      const stale = runDoctor(server.url, ['--keyring', key.keyring]);
      const error = stale.report.findings.find((f) => f.check === 'signatures' && f.severity === 'error');
      assert.ok(error, stale.text);
      assert.match(error.message, /streams\/v1\/index\.json differs from what was signed/);
      assert.equal(stale.status, 1);
      const unchecked = runDoctor(server.url);
      const warning = unchecked.report.findings.find((f) => f.check === 'signatures' && f.severity === 'warning');
      assert.ok(warning, unchecked.text);
      assert.match(warning.message, /streams\/v1\/index\.json differs from what was signed/);
    } finally {
      cleanupKey(key);
      cleanupKey(other);
    }
  });

  it('fails a tree built for another base URL than the one it is served at, with the fix; says why it ignores NODE_EXTRA_CA_CERTS', async () => {
    const port = await freePort();
    const { out } = await built(`moved-${servers.length}`, await freePort()); // built for another port
    const server = await startServe(out, port, tls);
    servers.push(server);
    const { status, report, text } = runDoctor(server.url);
    assert.equal(status, 1, text);
    const moved = errorsOf(report).find((f) => f.check === 'base url');
    assert.ok(moved, text);
    assert.match(moved.message, /^the tree was built for https:\/\/127\.0\.0\.1:\d+ and is served at https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(
      moved.fix,
      `rebuild with --base-url ${server.url} (or base_url in staticstreams.yaml), or serve the tree at ${/built for (\S+)/.exec(moved.message)![1]}`,
    );
    const noted = spawnSync(process.execPath, [BIN, 'doctor', server.url], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caCert },
    });
    assert.match(noted.stderr, /^note: NODE_EXTRA_CA_CERTS is set; doctor ignores it on purpose: LXD and Incus trust only the system CA store/m);
  });

  for (const [label, start] of HOSTS) {
    it(`finds nothing wrong with ${label}, in seconds`, async () => {
      const port = await freePort();
      const { out, serverConfig } = await built(`good-${servers.length}`, port);
      const server = await start(out, port, tls, serverConfig);
      servers.push(server);
      const started = Date.now();
      const { status, report, text } = runDoctor(server.url);
      assert.equal(status, 0, text);
      assert.deepEqual(errorsOf(report), []);
      // `wrangler pages dev`'s local asset server answers a Range request with the whole file
      // (200): doctor says so; the other hosts answer 206.
      const warnings = report.findings.filter((f) => f.severity === 'warning').map((f) => f.message);
      assert.deepEqual(warnings, label.startsWith('Cloudflare') ? ['a Range request answers 200, not 206'] : [], text);
      for (const check of [
        'tls',
        'certificate',
        'index',
        'products',
        'consumers',
        'cors',
        'cache',
        'image files',
        'port 80',
        'base url',
        'import endpoints',
        'catalogue',
      ]) {
        assert.ok(
          report.findings.some((f) => f.check === check && f.severity === 'ok'),
          `${check} was checked: ${text}`,
        );
      }
      assert.ok(Date.now() - started < 30_000, 'in seconds');
      assert.match(text, /^ok: https:\/\/127\.0\.0\.1:\d+: 0 errors, (?:0 warnings|1 warning)$/m);
    });
  }

  it('catches nginx with TLS 1.2 only', async () => {
    const port = await freePort();
    const { out, serverConfig } = await built('tls12', port);
    const server = await startNginx(out, tls, `include ${serverConfig}/nginx-server.conf;`, `include ${serverConfig}/nginx-http.conf;`, port, {
      protocols: 'TLSv1.2',
    });
    servers.push(server);
    const { status, report } = runDoctor(server.url);
    assert.equal(status, 1);
    const f = errorsOf(report).find((e) => e.check === 'tls')!;
    assert.match(f.message, /TLS 1\.3 is not offered/);
    assert.match(f.fix!, /ssl_protocols TLSv1\.2 TLSv1\.3/);
  });

  it('catches a certificate the system does not trust', async () => {
    const dir = mkdtempSync(path.join(work, 'selfsigned-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const port = await freePort();
    const { out } = await built('untrusted', port);
    const server = await startServe(out, port, { cert, key });
    servers.push(server);
    const { status, report } = runDoctor(server.url);
    assert.equal(status, 1);
    const f = errorsOf(report).find((e) => e.check === 'certificate')!;
    assert.match(f.message, /not trusted by the system/);
    assert.ok(
      report.findings.some((x) => x.check === 'index' && x.severity === 'ok'),
      'and still checks the rest',
    );
  });

  it('catches nginx without the generated snippets: no CORS, import endpoints without headers', async () => {
    const port = await freePort();
    const { out } = await built('bare', port);
    const server = await startNginx(out, tls, '', '', port);
    servers.push(server);
    const { status, report } = runDoctor(server.url);
    assert.equal(status, 1);
    const errors = errorsOf(report);
    assert.ok(errors.some((e) => e.check === 'cors' && /no Access-Control-Allow-Origin/.test(e.message) && /generated header rules/.test(e.fix!)));
    assert.ok(errors.some((e) => e.check === 'import endpoints' && /without LXD-Image-Hash/.test(e.message)));
    assert.ok(errors.some((e) => e.check === 'import endpoints' && /without Incus-Image-Hash/.test(e.message)));
    assert.ok(report.findings.some((f) => f.check === 'cache' && f.severity === 'warning'));
  });

  it('catches a port 80 that accepts connections and never answers', async () => {
    const silent = net.createServer(() => {}); // accepts, never writes
    await new Promise<void>((resolve, reject) => silent.once('error', reject).listen(80, '127.0.0.1', resolve));
    try {
      const port = await freePort();
      const { out } = await built('port80', port);
      const server = await startServe(out, port, tls);
      servers.push(server);
      const { status, report } = runDoctor(server.url);
      assert.equal(status, 1);
      const f = errorsOf(report).find((e) => e.check === 'port 80')!;
      assert.match(f.message, /accepts connections and never answers/);
      assert.match(f.fix!, /REJECT, not DROP/);
    } finally {
      silent.close();
    }
  });

  it('catches a redirect to a bucket that answers 404', async () => {
    const s3: LocalBucket = await startS3();
    try {
      const port = await freePort();
      const settings = s3.settings({ prefix: 'doctor/' });
      const { out } = await built('bucket404', port, configSchema.parse({ object_storage: { ...settings, public_url: `${s3.publicUrl}/missing` } }));
      const server = await startServe(out, port, tls);
      servers.push(server);
      const { status, report } = runDoctor(server.url);
      assert.equal(status, 1);
      const f = errorsOf(report).find((e) => e.check === 'image files')!;
      assert.match(f.message, /answers 404 \(through 1 redirect: http:\/\/127\.0\.0\.1:\d+\/\S+\/missing\/doctor\//);
      assert.match(f.fix!, /bucket the redirect points at/);
    } finally {
      await s3.stop();
    }
  });
});
