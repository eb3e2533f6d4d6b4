// The plain-shell recipe of docs/ci.md, run as written (only the host names and the ssh hop are
// replaced by local ones): a first publish, then the recipe's script publishes version 2 on top
// of the live nginx server (--previous URL), ships the tree and the nginx snippets, reloads nginx
// and runs `staticstreams doctor`, which must find nothing wrong.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { put, unifiedTarball } from '../support/images.js';
import { requirements } from '../support/require.js';
import { ensureTestTls } from '../support/tls.js';
import { startNginx } from '../support/nginx.js';
import { freePort } from '../support/server-process.js';

const skip = requirements(['nginx', 'rsync', 'curl', 'openssl', 'update-ca-certificates'], { root: true });
const BIN = path.resolve('bin/staticstreams.js');

/** The first ```sh block after `heading` in docs/ci.md. */
function recipe(heading: string): string {
  const doc = readFileSync(path.resolve('docs/ci.md'), 'utf8');
  const from = doc.indexOf(heading);
  assert.ok(from >= 0, `docs/ci.md has ${heading}`);
  return /```sh\n([\s\S]*?)```/.exec(doc.slice(from))![1]!;
}

describe('docs/ci.md: the plain-shell recipe (nginx, rsync)', { skip }, () => {
  let work: string;
  let stop: (() => Promise<void>) | undefined;
  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-recipe-'));
  });
  after(async () => {
    await stop?.();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('publishes version 2 on top of the live server, ships the snippets, reloads nginx, and doctor is happy', async () => {
    const tls = ensureTestTls();
    const port = await freePort();
    const live = `https://127.0.0.1:${port}`;
    const served = path.join(work, 'srv/images');
    const snippets = path.join(work, 'etc/nginx/staticstreams');
    mkdirSync(served, { recursive: true });
    mkdirSync(snippets, { recursive: true });
    const runner = (serial: string) => path.join(work, `runner-${serial}`);
    for (const serial of ['20261101_0000', '20261110_0000']) {
      await put(path.join(runner(serial), 'new-images/image.tar.gz'), await unifiedTarball({ os: 'recipe', release: '1', serial }, serial));
    }
    const cli = (args: string[], cwd: string) => execFileSync(process.execPath, [BIN, ...args], { cwd, stdio: 'pipe' });
    // The first publish (docs/ci.md: once, without --previous), deployed the same way.
    cli(
      ['build', '--images', 'new-images', '--base-url', live, '--target', 'nginx', '--out', 'dist', '--server-config', 'server-config'],
      runner('20261101_0000'),
    );
    execFileSync('rsync', ['-a', `${runner('20261101_0000')}/dist/`, `${served}/`]);
    execFileSync('rsync', ['-a', `${runner('20261101_0000')}/server-config/`, `${snippets}/`]);
    const nginx = await startNginx(served, tls, `include ${snippets}/nginx-server.conf;`, `include ${snippets}/nginx-http.conf;`, port);
    stop = () => nginx.stop();

    // The recipe, as written.
    const script = recipe('## A plain shell')
      .replaceAll('https://images.example.org', live)
      .replaceAll('npx staticstreams', `${process.execPath} ${BIN}`)
      .replaceAll('web:/srv/images/', `${served}/`)
      .replaceAll('web:/etc/nginx/staticstreams/', `${snippets}/`)
      .replace(/ssh web '([^']*)'/, () => nginx.reloadCommand);
    assert.doesNotMatch(script, /example\.org|web:|ssh /, 'every remote part was replaced');
    const r = spawnSync('sh', ['-c', script], { cwd: runner('20261110_0000'), encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caCert } });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^ok: https:\/\/127\.0\.0\.1:\d+: 0 errors, 0 warnings$/m, 'doctor found nothing wrong');

    const catalog = JSON.parse(execFileSync('curl', ['-sS', '--cacert', tls.caCert, `${live}/catalog.json`], { encoding: 'utf8' })) as {
      products: { versions: { version: string; images: { fingerprint: string }[] }[] }[];
    };
    assert.deepEqual(
      catalog.products[0]!.versions.map((v) => v.version),
      ['20261110_0000', '20261101_0000'],
      'both versions live',
    );
    const head = execFileSync('curl', ['-sS', '-I', '--cacert', tls.caCert, '-H', 'LXD-Server-Architectures: x86_64', `${live}/import/alias/recipe/1`], {
      encoding: 'utf8',
    });
    assert.match(
      head,
      new RegExp(`lxd-image-hash: ${catalog.products[0]!.versions[0]!.images[0]!.fingerprint}`, 'i'),
      'the reloaded snippets point the alias at version 2',
    );
  });
});
