// docs/ci.md's channels recipe, run as written (only the host names, `npx` and the ssh hop are
// replaced by local ones): a daily tree at /daily and a stable one at / on one nginx site, the
// second night's version built into daily and promoted into stable without being rebuilt. Real
// LXD and Incus add each channel as its own remote: stable lists both promoted versions under
// daily's fingerprints.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { put, unifiedTarball } from '../support/images.js';
import { requirements } from '../support/require.js';
import { ensureTestTls, type TestTls } from '../support/tls.js';
import { startNginx } from '../support/nginx.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { CLIENTS, clientRequirements, type Client } from '../support/clients.js';

const skip = requirements(['nginx', 'rsync', 'curl', 'openssl', 'update-ca-certificates'], { root: true });
const clientSkip = (client: Client) => clientRequirements(client, []);
const BIN = path.resolve('bin/staticstreams.js');

function recipe(heading: string): string {
  const doc = readFileSync(path.resolve('docs/ci.md'), 'utf8');
  const from = doc.indexOf(heading);
  assert.ok(from >= 0, `docs/ci.md has ${heading}`);
  return /```sh\n([\s\S]*?)```/.exec(doc.slice(from))![1]!;
}

interface Catalog {
  products: { versions: { version: string; images: { fingerprint: string }[] }[] }[];
}

describe('docs/ci.md: channels, daily at /daily and stable at / (nginx)', { skip }, () => {
  let tls: TestTls;
  let work: string;
  let nginx: (RunningServer & { reloadCommand: string }) | undefined;
  let live: string;
  const catalogOf = (url: string) =>
    JSON.parse(execFileSync('curl', ['-sS', '--fail', '--cacert', tls.caCert, `${url}/catalog.json`], { encoding: 'utf8' })) as Catalog;
  const fingerprints = (c: Catalog) => c.products.flatMap((p) => p.versions.flatMap((v) => v.images.map((i) => `${v.version} ${i.fingerprint}`))).sort();

  before(async () => {
    tls = ensureTestTls();
    for (const client of CLIENTS) if (!clientSkip(client)) client.ensure(tls.newlyTrusted);
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-channels-'));
    const port = await freePort();
    live = `https://127.0.0.1:${port}`;
    const served = path.join(work, 'srv/images');
    const snippets = path.join(work, 'etc/nginx/staticstreams');
    for (const d of [path.join(served, 'daily'), path.join(snippets, 'daily'), path.join(snippets, 'stable')]) mkdirSync(d, { recursive: true });
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: tls.caCert };
    const cli = (args: string[], cwd: string) => execFileSync(process.execPath, [BIN, ...args], { cwd, env, stdio: 'pipe' });
    const runner = async (serial: string) => {
      const dir = path.join(work, `runner-${serial.replace(':', '')}`);
      await put(path.join(dir, 'new-images/image.tar.gz'), await unifiedTarball({ os: 'channel', release: '1', serial }, serial));
      return dir;
    };
    // The first night of each channel (nothing is live yet: no --previous), deployed the same way.
    const first = await runner('20261101_00:00');
    cli(['build', '--images', 'new-images', '--base-url', `${live}/daily`, '--target', 'nginx', '--out', 'daily', '--server-config', 'daily-config'], first);
    execFileSync('rsync', ['-a', `${first}/daily/`, `${served}/daily/`]);
    execFileSync('rsync', ['-a', `${first}/daily-config/`, `${snippets}/daily/`]);
    for (const f of ['nginx-server.conf', 'nginx-http.conf']) writeFileSync(path.join(snippets, 'stable', f), '# nothing promoted yet\n');
    nginx = await startNginx(
      served,
      tls,
      `include ${snippets}/stable/nginx-server.conf;\ninclude ${snippets}/daily/nginx-server.conf;`,
      `include ${snippets}/stable/nginx-http.conf;\ninclude ${snippets}/daily/nginx-http.conf;`,
      port,
    );
    cli(
      [
        'promote',
        `${live}/daily`,
        '--filter',
        'version=20261101_00:00',
        '--base-url',
        live,
        '--target',
        'nginx',
        '--out',
        'stable',
        '--server-config',
        'stable-config',
      ],
      first,
    );
    execFileSync('rsync', ['-a', '--exclude', '/daily/', `${first}/stable/`, `${served}/`]);
    execFileSync('rsync', ['-a', `${first}/stable-config/`, `${snippets}/stable/`]);
    execFileSync('sh', ['-c', nginx.reloadCommand]);

    // The second night, the recipe as written: build 20261110 into daily, promote it into stable.
    const second = await runner('20261110_00:00');
    const script = recipe('## Channels')
      .replaceAll('https://images.example.org', live)
      .replaceAll('npx staticstreams', `${process.execPath} ${BIN}`)
      .replaceAll('web:/srv/images/', `${served}/`)
      .replaceAll('web:/etc/nginx/staticstreams/', `${snippets}/`)
      .replace(/ssh web '([^']*)'/g, () => nginx!.reloadCommand);
    assert.doesNotMatch(script, /example\.org|web:|ssh /, 'every remote part was replaced');
    const r = spawnSync('sh', ['-c', script], { cwd: second, encoding: 'utf8', env: { ...env, VERSION: '20261110_00:00' } });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });
  after(async () => {
    await nginx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('stable holds both promoted versions with daily’s fingerprints; each channel answers under its own path', () => {
    const daily = catalogOf(`${live}/daily`);
    const stable = catalogOf(live);
    assert.equal(fingerprints(daily).length, 2);
    assert.deepEqual(fingerprints(stable), fingerprints(daily), 'the same versions and fingerprints: nothing rebuilt');
    for (const [url, catalog] of [
      [live, stable],
      [`${live}/daily`, daily],
    ] as const) {
      // (nginx -s reload swaps its workers in the background: the new snippets answer within moments)
      const newest = new RegExp(`lxd-image-hash: ${catalog.products[0]!.versions[0]!.images[0]!.fingerprint}`, 'i');
      const head = () =>
        execFileSync('curl', ['-sS', '-I', '--cacert', tls.caCert, '-H', 'LXD-Server-Architectures: x86_64', `${url}/import/alias/channel/1`], {
          encoding: 'utf8',
        });
      let answer = head();
      for (let i = 0; i < 50 && !newest.test(answer); i++) {
        execFileSync('sleep', ['0.2']);
        answer = head();
      }
      assert.match(answer, newest, `${url}: the alias endpoint names the promoted version`);
    }
  });

  for (const client of CLIENTS) {
    describe(`with real ${client.label}`, { skip: clientSkip(client) }, () => {
      const id = randomBytes(3).toString('hex');
      const remotes = { stable: `ss-stable-${id}`, daily: `ss-daily-${id}` };
      after(() =>
        client.cleanup([
          ['remote', 'remove', remotes.stable],
          ['remote', 'remove', remotes.daily],
        ]),
      );

      it('adds each channel as its own remote and sees the promoted version in stable', () => {
        client.run(['remote', 'add', remotes.stable, live, '--protocol', 'simplestreams', '--accept-certificate']);
        client.run(['remote', 'add', remotes.daily, `${live}/daily`, '--protocol', 'simplestreams', '--accept-certificate']);
        const listed = (remote: string) =>
          (JSON.parse(client.run(['image', 'list', `${remote}:`, '--format', 'json'])) as { fingerprint: string }[]).map((i) => i.fingerprint).sort();
        const expected = fingerprints(catalogOf(`${live}/daily`))
          .map((l) => l.split(' ')[1]!)
          .sort();
        assert.deepEqual(listed(remotes.daily), expected);
        assert.deepEqual(listed(remotes.stable), expected);
        const alias = JSON.parse(client.run(['image', 'alias', 'list', `${remotes.stable}:`, '--format', 'json'])) as { name: string; target: string }[];
        const newest = catalogOf(live).products[0]!.versions[0]!.images[0]!.fingerprint;
        assert.equal(alias.find((a) => a.name === 'channel/1')?.target, newest, 'the alias in stable points at the promoted version');
      });
    });
  }
});
