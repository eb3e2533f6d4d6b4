// The plain-shell recipe of docs/ci.md, run as written (only the host names and the ssh hop are
// replaced by local ones): a first publish, then the recipe's script publishes version 2 on top
// of the live nginx server (--previous URL), ships the tree and the nginx snippets, reloads nginx
// and runs `staticstreams doctor`, which must find nothing wrong.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { put, unifiedTarball } from '../support/images.js';
import { requirements } from '../support/require.js';
import { ensureTestTls } from '../support/tls.js';
import { startNginx } from '../support/nginx.js';
import { freePort } from '../support/server-process.js';
import { CLIENTS, clientRequirements } from '../support/clients.js';

const skip = requirements(['nginx', 'rsync', 'curl', 'openssl', 'update-ca-certificates'], { root: true });
const BIN = path.resolve('bin/staticstreams.js');

/** The first ```LANG block after `heading` in docs/ci.md. */
function recipe(heading: string, lang = 'sh'): string {
  const doc = readFileSync(path.resolve('docs/ci.md'), 'utf8');
  const from = doc.indexOf(heading);
  assert.ok(from >= 0, `docs/ci.md has ${heading}`);
  return new RegExp(`\`\`\`${lang}\n([\\s\\S]*?)\`\`\``).exec(doc.slice(from))![1]!;
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
    for (const serial of ['20261101_00:00', '20261110_00:00']) {
      await put(path.join(runner(serial), 'new-images/image.tar.gz'), await unifiedTarball({ os: 'recipe', release: '1', serial }, serial));
    }
    const cli = (args: string[], cwd: string) => execFileSync(process.execPath, [BIN, ...args], { cwd, stdio: 'pipe' });
    // The first publish (docs/ci.md: once, without --previous), deployed the same way.
    cli(
      ['build', '--images', 'new-images', '--base-url', live, '--target', 'nginx', '--out', 'dist', '--server-config', 'server-config'],
      runner('20261101_00:00'),
    );
    execFileSync('rsync', ['-a', `${runner('20261101_00:00')}/dist/`, `${served}/`]);
    execFileSync('rsync', ['-a', `${runner('20261101_00:00')}/server-config/`, `${snippets}/`]);
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
    const r = spawnSync('sh', ['-c', script], { cwd: runner('20261110_00:00'), encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caCert } });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^ok: https:\/\/127\.0\.0\.1:\d+: 0 errors, 0 warnings$/m, 'doctor found nothing wrong');

    const catalog = JSON.parse(execFileSync('curl', ['-sS', '--cacert', tls.caCert, `${live}/catalog.json`], { encoding: 'utf8' })) as {
      products: { versions: { version: string; images: { fingerprint: string }[] }[] }[];
    };
    assert.deepEqual(
      catalog.products[0]!.versions.map((v) => v.version),
      ['20261110_00:00', '20261101_00:00'],
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

describe('docs/ci.md: the nightly mirror recipe (nginx)', { skip }, () => {
  let work: string;
  const stops: (() => Promise<void>)[] = [];
  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-recipe-mirror-'));
  });
  after(async () => {
    for (const stop of stops) await stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('mirrors the upstream into the served folder, reloads nginx, doctor is happy; the next night brings only the new version', async () => {
    const tls = ensureTestTls();
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: tls.caCert };
    // The upstream: a staticstreams tree with a container and a VM, served by nginx.
    const upstreamTree = path.join(work, 'upstream');
    const publishUpstream = async (serial: string, onTop: boolean) => {
      const images = path.join(work, `up-images-${serial}`);
      await put(path.join(images, 'c.tar.gz'), await unifiedTarball({ os: 'mirrored', release: '1', serial }, serial));
      await put(path.join(images, 'v.tar.gz'), await unifiedTarball({ os: 'mirrored', release: '1', serial }, serial, { vm: true }));
      execFileSync(process.execPath, [
        BIN,
        'build',
        '--images',
        images,
        '--out',
        upstreamTree,
        '--no-site',
        '-q',
        ...(onTop ? ['--previous', upstreamTree] : []),
      ]);
    };
    await publishUpstream('20261101_00:00', false);
    const upstream = await startNginx(upstreamTree, tls);
    stops.push(() => upstream.stop());

    const port = await freePort();
    const live = `https://127.0.0.1:${port}`;
    const job = path.join(work, 'job');
    const served = path.join(work, 'srv/mirror');
    const snippets = path.join(work, 'etc/nginx/staticstreams-mirror');
    mkdirSync(job, { recursive: true });
    const config = recipe('## A nightly mirror', 'yaml').replaceAll('https://mirror.example.org', live).replaceAll('https://images.example.org', upstream.url);
    writeFileSync(path.join(job, 'staticstreams.yaml'), config);
    const script = () =>
      recipe('## A nightly mirror')
        .replaceAll('https://mirror.example.org', live)
        .replaceAll('npx staticstreams', `${process.execPath} ${BIN}`)
        .replaceAll('/srv/mirror', served)
        .replaceAll('/etc/nginx/staticstreams-mirror', snippets)
        .replace('nginx -t && nginx -s reload', () => nginx!.reloadCommand);
    // The first night makes the folder and the snippets; nginx is set up once, with them.
    execFileSync(process.execPath, [BIN, 'mirror', '--out', served, '--server-config', snippets, '-q'], { cwd: job, env, stdio: 'pipe' });
    const nginx: Awaited<ReturnType<typeof startNginx>> | undefined = await startNginx(
      served,
      tls,
      `include ${snippets}/nginx-server.conf;`,
      `include ${snippets}/nginx-http.conf;`,
      port,
    );
    stops.push(() => nginx!.stop());
    const versions = () =>
      (
        JSON.parse(execFileSync('curl', ['-sS', '--cacert', tls.caCert, `${live}/catalog.json`], { encoding: 'utf8' })) as {
          products: { versions: { version: string; images: { type: string }[] }[] }[];
        }
      ).products.flatMap((p) => p.versions.map((v) => `${v.version} ${v.images.map((i) => i.type).join()}`));
    // The next night: a new upstream version; the recipe, as written, brings exactly it.
    await publishUpstream('20261102_00:00', true);
    assert.doesNotMatch(script(), /example\.org/, 'every host was replaced');
    const r = spawnSync('sh', ['-c', script()], { cwd: job, encoding: 'utf8', env });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /1 version copied \(1 file,/, 'only the new version, its container only');
    assert.match(r.stdout, /^ok: https:\/\/127\.0\.0\.1:\d+: 0 errors, 0 warnings$/m, 'doctor found nothing wrong');
    assert.deepEqual(versions(), ['20261102_00:00 container', '20261101_00:00 container'], 'keep 2, containers only');
  });
});

/** The ```sh blocks of the README's "Quick start" section, in order. */
function quickStart(): string[] {
  const doc = readFileSync(path.resolve('README.md'), 'utf8');
  const from = doc.indexOf('## Quick start');
  assert.ok(from >= 0, 'the README has a quick start');
  const section = doc.slice(from, doc.indexOf('\n## ', from + 3));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const QUICK_CA = '/usr/local/share/ca-certificates/staticstreams-localhost.crt';

describe(
  "the README's quick start, run as written, ends in a running container",
  {
    skip: requirements(['mksquashfs', 'openssl', 'xz', 'tar', 'busybox', 'bash', 'update-ca-certificates'], { root: true }),
  },
  () => {
    const blocks = quickStart();
    const [install, rootfs, metadata, unified, split, buildStep, serveStep, launch] = blocks;
    let dir: string;
    let port: string;
    let pid: number | undefined;
    const env = () => ({ ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, NODE_EXTRA_CA_CERTS: undefined });
    const sh = (script: string) => spawnSync('bash', ['-euo', 'pipefail', '-c', script.replaceAll('8443', port)], { cwd: dir, encoding: 'utf8', env: env() });
    const fingerprint = () =>
      (JSON.parse(readFileSync(path.join(dir, 'dist/catalog.json'), 'utf8')) as { products: { versions: { images: { fingerprint: string }[] }[] }[] })
        .products[0]!.versions[0]!.images[0]!.fingerprint;
    const ok = (script: string) => {
      const r = sh(script);
      assert.equal(r.status, 0, `${script}\n${r.stdout}${r.stderr}`);
      return r;
    };

    before(async () => {
      assert.equal(blocks.length, 8, 'install, root filesystem, metadata, two ways to pack, build, serve, launch');
      dir = mkdtempSync(path.join(os.tmpdir(), 'ss-quick-'));
      port = String(await freePort());
      // `staticstreams` is this checkout's CLI (test/integration/package.test.ts installs the packed tarball).
      mkdirSync(path.join(dir, 'bin'));
      writeFileSync(path.join(dir, 'bin/staticstreams'), `#!/bin/sh\nexec ${process.execPath} ${BIN} "$@"\n`, { mode: 0o755 });
    });
    after(() => {
      if (pid) {
        try {
          process.kill(pid);
        } catch {
          // already gone
        }
      }
      rmSync(QUICK_CA, { force: true });
      spawnSync('update-ca-certificates', ['--fresh'], { stdio: 'ignore' });
      if (dir && !process.env.KEEP_TMP) rmSync(dir, { recursive: true, force: true });
    });

    it('gets the tool by packing and installing the tarball', () => {
      assert.match(install!, /npm pack --silent/);
      assert.match(install!, /npm install -g [^\n]*\.\/staticstreams-\d+\.\d+\.\d+\.tgz/);
    });

    it('makes a root filesystem that boots, packs it both ways, builds without a warning, and serves it over HTTPS', async () => {
      ok(rootfs!);
      ok(metadata!);
      ok(unified!);
      const built = ok(buildStep!);
      assert.doesNotMatch(built.stderr, /warning/, 'a quick start that builds without a warning');
      const catalog = JSON.parse(readFileSync(path.join(dir, 'dist/catalog.json'), 'utf8')) as { products: { key: string; aliases: string[] }[] };
      assert.deepEqual(
        catalog.products.map((p) => p.aliases),
        [['myos/1.0/default', 'myos/1.0']],
      );
      // Both forms of one serial: refused, with the fix; the split form alone builds.
      ok(split!);
      const both = sh(buildStep!);
      assert.equal(both.status, 1, both.stderr);
      assert.match(both.stderr, /fix: /);
      rmSync(path.join(dir, 'images/myos.tar.gz'));
      ok(buildStep!);
      // (Its output to a file: a background server holding the pipes would hold this call too.)
      const served = spawnSync('bash', ['-c', `exec >serve.out 2>&1\n${serveStep!.replaceAll('8443', port)}\necho $! > serve.pid`], {
        cwd: dir,
        encoding: 'utf8',
        env: env(),
        timeout: 60_000,
      });
      assert.equal(served.status, 0, served.stderr);
      pid = Number(readFileSync(path.join(dir, 'serve.pid'), 'utf8'));
      // Step 7's first line, as written: the certificate into the system store. verify then trusts
      // it as LXD and Incus do (no NODE_EXTRA_CA_CERTS).
      ok(launch!.split('\n')[0]!);
      let verified = sh(`staticstreams verify https://localhost:8443`);
      for (let i = 0; i < 50 && verified.status !== 0 && /ECONNREFUSED/.test(verified.stdout + verified.stderr); i++) {
        await new Promise((r) => setTimeout(r, 200));
        verified = sh(`staticstreams verify https://localhost:8443`);
      }
      assert.equal(verified.status, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /^ok: 1 product, 1 image/m);
    });

    for (const client of CLIENTS)
      it(
        `with real ${client.label}: restarts the daemon, adds the remote, launches, and the container answers`,
        { skip: clientRequirements(client, []) },
        () => {
          assert.ok(pid, 'the server of the step before runs');
          // `systemctl restart lxd` (no systemd here): the daemon restarted by hand, reading the store.
          const lines = launch!.trim().split('\n');
          assert.match(lines[1]!, /^systemctl restart lxd$/);
          client.ensure(true);
          const remote = `ss-quick-${client.command}`;
          const container = `ss-quick-${client.command}-${process.pid}`;
          client.cleanup([
            ['delete', '--force', container],
            ['remote', 'remove', remote],
          ]);
          try {
            const script = lines
              .slice(2)
              .map((l) =>
                l
                  .replace(/^lxc /, `${client.command} `)
                  .replaceAll('myimages', remote)
                  .replace(/\bc1\b/, container),
              )
              .join('\n');
            const r = ok(script);
            assert.match(r.stdout, /hello from my first image/);
            assert.equal(client.run(['exec', container, '--', 'hostname']).trim(), container, 'the hostname template named the container');
          } finally {
            client.cleanup([
              ['delete', '--force', container],
              ['remote', 'remove', remote],
              ['image', 'delete', fingerprint()],
            ]);
          }
        },
      );
  },
);
