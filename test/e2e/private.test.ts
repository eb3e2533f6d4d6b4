// A private tree (auth.htpasswd) on real nginx, Caddy, Cloudflare Pages (wrangler pages dev,
// workerd: the generated worker checks the bcrypt hashes) and `staticstreams serve --htpasswd`:
// 401 without credentials on every kind of path, and real LXD and Incus adding
// https://USER:PASSWORD@HOST as a remote, listing every image; a container launched through
// nginx by each client. doctor with the credentials finds nothing wrong while port 80 is closed,
// and reports an error once something answers on 127.0.0.1:80 (the clients would send the
// password there in clear first).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { requirements } from '../support/require.js';
import { ensureTestTls, type TestTls } from '../support/tls.js';
import { freePort, serverProcess, type RunningServer } from '../support/server-process.js';
import { startNginx } from '../support/nginx.js';
import { startCaddy, startWrangler } from '../support/servers.js';
import { CLIENTS, clientRequirements, type Client, readInContainer } from '../support/clients.js';
import type { Catalog } from '../../generator/index.js';

const skip = requirements(['nginx', 'caddy', 'curl', 'openssl', 'update-ca-certificates'], { root: true });
const clientSkip = (client: Client) => clientRequirements(client, []);
const BIN = path.resolve('bin/staticstreams.js');
const USER = 'alice';
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;

function status(url: string, tls: TestTls, credentials = false): number {
  const out = execFileSync(
    'curl',
    ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', tls.caCert, ...(credentials ? ['-u', `${USER}:${PASSWORD}`] : []), url],
    {
      encoding: 'utf8',
    },
  );
  return Number(out);
}

type Start = (out: string, port: number, tls: TestTls, conf: string, htpasswd: string) => Promise<RunningServer>;
const HOSTS: [string, Start][] = [
  ['nginx', (out, port, tls, conf) => startNginx(out, tls, `include ${conf}/nginx-server.conf;`, `include ${conf}/nginx-http.conf;`, port)],
  ['Caddy', (out, port, tls, conf) => startCaddy(out, port, tls, path.join(conf, 'caddy-site.conf'))],
  ['Cloudflare Pages (wrangler pages dev, workerd)', (out, port, tls) => startWrangler(out, port, tls)],
  [
    'staticstreams serve --htpasswd',
    async (out, port, tls, _conf, htpasswd) => {
      const { spawn } = await import('node:child_process');
      return serverProcess(
        spawn(process.execPath, [BIN, 'serve', out, '--port', String(port), '--tls-cert', tls.cert, '--tls-key', tls.key, '--htpasswd', htpasswd, '-q'], {
          stdio: 'ignore',
        }),
        port,
      );
    },
  ],
];

describe('a private tree on real nginx, Caddy, Cloudflare Pages (workerd) and serve', { skip }, () => {
  let tls: TestTls;
  let work: string;
  let htpasswd: string;
  before(() => {
    tls = ensureTestTls();
    for (const client of CLIENTS) if (!clientSkip(client)) client.ensure(tls.newlyTrusted);
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-private-e2e-'));
    htpasswd = path.join(work, 'users.htpasswd');
    writeFileSync(htpasswd, `${USER}:${bcrypt.hashSync(PASSWORD, 8).replace(/^\$2b\$/, '$2y$')}\n`);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const [label, start] of HOSTS) {
    describe(label, () => {
      let server: RunningServer;
      let catalog: Catalog;
      let base: string;
      const id = randomBytes(3).toString('hex');

      before(async () => {
        const port = await freePort();
        base = `https://127.0.0.1:${port}`;
        const out = path.join(work, `dist-${id}`);
        const conf = path.join(work, `conf-${id}`);
        const config = path.join(work, `config-${id}.yaml`);
        writeFileSync(config, `base_url: ${base}\ntargets: [nginx, caddy, cloudflare]\nserver_config: ${conf}\nauth:\n  htpasswd: ${htpasswd}\n`);
        execFileSync(process.execPath, [BIN, 'build', '--images', path.resolve('images'), '--out', out, '--config', config, '-q'], { stdio: 'pipe' });
        catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')) as Catalog;
        server = await start(out, port, tls, conf, htpasswd);
      });
      after(async () => server?.stop());

      it('answers 401 without the credentials on every kind of path, and serves them with', () => {
        const image = catalog.products[0]!.versions[0]!.images[0]!.files[0]!.path;
        const paths = [
          'streams/v1/index.json',
          catalog.streams.products,
          image,
          'catalog.json',
          '',
          'import/alias/busybox/1.36/unified',
          'import/alias/nothing',
        ];
        for (const p of paths) assert.equal(status(`${base}/${p}`, tls), 401, `/${p} without credentials`);
        for (const p of paths.slice(0, 5)) assert.equal(status(`${base}/${p}`, tls, true), 200, `/${p} with credentials`);
        // The worker holds the hashes: no host serves it, not even with the credentials.
        const worker = execFileSync('curl', ['-s', '--cacert', tls.caCert, '-u', `${USER}:${PASSWORD}`, `${base}/_worker.js`], { encoding: 'utf8' });
        assert.ok(!worker.includes('$2y$'), `/_worker.js is not served: ${worker.slice(0, 200)}`);
        const headers = execFileSync('curl', ['-s', '-D', '-', '-o', '/dev/null', '--cacert', tls.caCert, '-u', `${USER}:${PASSWORD}`, `${base}/${image}`], {
          encoding: 'utf8',
        });
        assert.match(headers, /^cache-control: private, max-age=31536000, immutable\r?$/im, 'image files are private to the client');
      });

      for (const client of CLIENTS) {
        describe(`with real ${client.label}`, { skip: clientSkip(client) }, () => {
          const remote = `ss-priv-${randomBytes(3).toString('hex')}`;
          const container = `ss-priv-${randomBytes(3).toString('hex')}`;
          after(() =>
            client.cleanup([
              ['delete', '--force', container],
              ['remote', 'remove', remote],
            ]),
          );

          it('adds https://USER:PASSWORD@HOST as a remote and lists every image', () => {
            const url = base.replace('https://', `https://${USER}:${PASSWORD}@`);
            client.run(['remote', 'add', remote, url, '--protocol', 'simplestreams', '--accept-certificate']);
            const listed = JSON.parse(client.run(['image', 'list', `${remote}:`, '--format', 'json'])) as { fingerprint: string }[];
            const all = catalog.products.flatMap((p) => p.versions.flatMap((v) => v.images.map((i) => i.fingerprint))).sort();
            assert.deepEqual(listed.map((i) => i.fingerprint).sort(), all);
          });

          if (label === 'nginx')
            it('launches a container from the private remote (its files fetched with the credentials)', () => {
              client.run(['launch', `${remote}:busybox/1.36`, container]);
              assert.equal(readInContainer(client, container, '/marker').trim(), 'staticstreams-sample');
            });
        });
      }

      if (label === 'nginx')
        it('doctor with the credentials: nothing wrong while port 80 is closed; an error once it answers', async () => {
          const url = base.replace('https://', `https://${USER}:${PASSWORD}@`);
          const doctor = () => spawnSync(process.execPath, [BIN, 'doctor', url], { encoding: 'utf8', timeout: 120_000 });
          const closed = doctor();
          assert.equal(closed.status, 0, closed.stdout);
          assert.match(closed.stdout, /ok: private: streams\/v1\/index\.json answers 401 without the credentials/);
          assert.ok(!closed.stdout.includes(PASSWORD), 'the password is never printed');
          const listener = http.createServer((_req, res) => res.writeHead(301, { Location: 'https://example.org/' }).end());
          await new Promise<void>((resolve, reject) => {
            listener.once('error', reject);
            listener.listen(80, '127.0.0.1', resolve);
          });
          try {
            // (asynchronously: the listener answers from this process)
            const open = await new Promise<{ status: number | null; stdout: string }>((resolve) =>
              execFile(process.execPath, [BIN, 'doctor', url], { encoding: 'utf8', timeout: 120_000 }, (e, stdout) =>
                resolve({ status: e ? ((e as { code?: number }).code ?? 1) : 0, stdout }),
              ),
            );
            assert.equal(open.status, 1, open.stdout);
            assert.match(open.stdout, /error: port 80: port 80 answers: LXD and Incus send the credentials there in clear/);
            assert.match(open.stdout, /fix: let nothing listen on port 80 of this host/);
          } finally {
            await new Promise((r) => listener.close(r));
          }
        });
    });
  }
});
