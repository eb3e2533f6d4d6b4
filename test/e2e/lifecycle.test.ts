// The publishing lifecycle with each real client (LXD, then Incus): version 1 is published and
// served over TLS (`staticstreams serve`), the client adds the remote and copies it; a CI runner
// that holds only version 2 publishes it with --previous https://… (the live server) and the
// result is deployed; the client sees both, the alias moves to version 2, version 1 still
// copies; prune with retention 1 drops version 1 from what the client lists while its files stay
// downloadable for the grace period (for clients still holding the old index), and removes
// them once the (injected) clock passes it. Clients cache index files for an hour: the test
// expires that cache where the hour would pass. The same runs again with image files on object
// storage (s3rver): the client downloads them through the host's redirect, and prune deletes
// them from the bucket; those runs write version keys as YYYYMMDD_HHMM (version_format), the
// others in the default YYYYMMDD_HH:MM, so both shapes meet both clients.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { put, unifiedTarball } from '../support/images.js';
import { ensureTestTls, type TestTls } from '../support/tls.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { startServe } from '../support/servers.js';
import { CLIENTS, clientRequirements } from '../support/clients.js';
import { startS3, type LocalBucket } from '../support/s3.js';
import { build, type Catalog, loadConfig, type Config } from '../../generator/index.js';

interface ListedImage {
  fingerprint: string;
  properties: Record<string, string>;
}

/** The status a client ends with, following redirects, and the first hop's redirect target if any. */
function status(url: string, tls: TestTls): { code: number; redirect: string } {
  const [code, redirect] = execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--cacert', tls.caCert, url], {
    encoding: 'utf8',
  }).split(' ');
  if (Number(code) >= 300 && Number(code) < 400)
    return { code: Number(execFileSync('curl', ['-sSL', '-o', '/dev/null', '-w', '%{http_code}', redirect!], { encoding: 'utf8' })), redirect: redirect! };
  return { code: Number(code), redirect: '' };
}

for (const client of CLIENTS)
  for (const objectStorage of [false, true])
    describe(
      `publishing lifecycle with real ${client.label}${objectStorage ? ', image files on object storage' : ''}`,
      { skip: clientRequirements(client, ['curl', 'openssl', 'update-ca-certificates']) },
      () => {
        const { run: lxc, cleanup: lxcCleanup } = client;
        const id = randomBytes(3).toString('hex');
        const remote = `ss-life-${id}`;
        const os1 = `life${id}`;
        let work: string;
        let live: string;
        let tls: TestTls;
        let server: RunningServer;
        const fp: Record<string, string> = {};
        const v1Files: string[] = [];
        const copied: string[] = [];
        let s3: LocalBucket | undefined;
        let configFile: string | undefined;
        let config: Config | undefined;
        const configArgs = () => (configFile ? ['--config', configFile] : []);

        /** A CI runner's images folder: one new unified image. */
        async function runnerImages(serial: string, day: string): Promise<string> {
          const dir = path.join(work, `runner-${serial}`);
          await put(
            path.join(dir, 'image.tar.gz'),
            await unifiedTarball({ os: os1, release: '1', serial, creationDate: Date.parse(day) / 1000, description: `${os1} ${serial}` }, serial),
          );
          return dir;
        }

        /** What a deploy does: the built folder replaces what the server serves. */
        function deploy(built: string): void {
          rmSync(live, { recursive: true, force: true });
          renameSync(built, live);
        }

        const listed = () => (JSON.parse(lxc(['image', 'list', `${remote}:`, '--format', 'json'])) as ListedImage[]).filter((i) => i.properties.os === os1);
        const aliasTarget = () => lxc(['image', 'info', `${remote}:${os1}/1`]).match(/Fingerprint: ([0-9a-f]{64})/)![1];

        before(async () => {
          tls = ensureTestTls();
          client.ensure(tls.newlyTrusted);
          work = mkdtempSync(path.join(os.tmpdir(), 'ss-life-'));
          live = path.join(work, 'live');
          if (objectStorage) {
            s3 = await startS3();
            configFile = path.join(work, 'staticstreams.yaml');
            // And version keys in the shape trees had before YYYYMMDD_HH:MM became the default:
            // the clients order, list and alias both shapes alike.
            writeFileSync(configFile, `object_storage: ${JSON.stringify(s3.settings({ prefix: `life-${id}/` }))}\nversion_format: YYYYMMDD_HHMM\n`);
            config = await loadConfig(configFile, true);
          }
          const v1 = await build({
            images: await runnerImages('20261101_00:00', '2026-11-01T00:00:00Z'),
            out: path.join(work, 'build-1'),
            site: false,
            now: new Date('2026-11-01T12:00:00Z'),
            config,
          });
          fp.v1 = v1.catalog.products[0]!.versions[0]!.images[0]!.fingerprint;
          v1Files.push(...v1.catalog.products[0]!.versions[0]!.images[0]!.files.map((f) => f.path));
          deploy(path.join(work, 'build-1'));
          server = await startServe(live, await freePort(), tls);
          lxc(['remote', 'add', remote, server.url, '--protocol', 'simplestreams', '--accept-certificate']);
        });

        after(async () => {
          lxcCleanup([['remote', 'remove', remote], ...copied.map((f) => ['image', 'delete', `local:${f}`])]);
          await server?.stop();
          await s3?.stop();
          if (work) rmSync(work, { recursive: true, force: true });
        });

        it('version 1: the client lists it under its alias and copies it', () => {
          assert.equal(
            existsSync(path.join(live, 'images')),
            !objectStorage,
            objectStorage ? 'image files are only in the bucket' : 'image files are in the tree',
          );
          for (const f of v1Files)
            assert.deepEqual(status(`${server.url}/${f}`, tls), { code: 200, redirect: objectStorage ? `${s3!.publicUrl}/life-${id}/${f}` : '' });
          assert.deepEqual(
            listed().map((i) => i.fingerprint),
            [fp.v1],
          );
          assert.equal(aliasTarget(), fp.v1);
          lxc(['image', 'copy', `${remote}:${fp.v1}`, 'local:']);
          copied.push(fp.v1!);
        });

        it('version 2 from a runner without version 1, on top of the live URL: both listed, the alias moves, version 1 still copies', async () => {
          const images = await runnerImages('20261110_00:00', '2026-11-10T00:00:00Z');
          const out = path.join(work, 'build-2');
          // As a CI step would: the CLI, trusting the server's CA the way Node is told to.
          const summary = JSON.parse(
            execFileSync(
              process.execPath,
              [
                path.resolve('bin/staticstreams.js'),
                'build',
                '--images',
                images,
                '--previous',
                server.url,
                '--out',
                out,
                '--no-site',
                '--now',
                '2026-11-10T12:00:00Z',
                '--json',
                ...configArgs(),
              ],
              {
                encoding: 'utf8',
                env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caCert },
              },
            ),
          ) as { filesDownloaded: number; added: string[]; bucket: { uploaded: number; alreadyThere: number } | null };
          if (objectStorage) {
            assert.equal(summary.filesDownloaded, 1, 'only the old products file came from the live server');
            assert.deepEqual(
              summary.bucket && [summary.bucket.uploaded, summary.bucket.alreadyThere],
              [1, 1],
              'version 2 went up, version 1 stayed in the bucket',
            );
          } else assert.equal(summary.filesDownloaded, 2, 'version 1 and the old products file came from the live server');
          assert.deepEqual(summary.added, [`${os1}:1:amd64:default ${objectStorage ? '20261110_0000' : '20261110_00:00'}`]);
          const catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')) as Catalog;
          fp.v2 = catalog.products[0]!.versions[0]!.images[0]!.fingerprint;
          deploy(out);
          client.expireCache(); // the client re-reads the index after its hour of caching
          assert.deepEqual(
            listed()
              .map((i) => i.fingerprint)
              .sort(),
            [fp.v1, fp.v2].sort(),
          );
          assert.equal(aliasTarget(), fp.v2, 'the alias follows the newest version');
          lxc(['image', 'delete', `local:${fp.v1}`]);
          lxc(['image', 'copy', `${remote}:${fp.v1}`, 'local:']);
          lxc(['image', 'copy', `${remote}:${os1}/1`, 'local:']);
          copied.push(fp.v2!);
          const local = JSON.parse(lxc(['image', 'list', 'local:', '--format', 'json'])) as ListedImage[];
          for (const f of [fp.v1, fp.v2])
            assert.ok(
              local.some((i) => i.fingerprint === f),
              `${f} is in the local store`,
            );
        });

        it('prune --retain 1: version 1 leaves the index at once, its files stay for the grace period, then go', async () => {
          const prune = (now: string) =>
            execFileSync(
              process.execPath,
              [path.resolve('bin/staticstreams.js'), 'prune', live, '--retain', '1', '--grace', '2h', '--now', now, '--no-site', ...configArgs()],
              { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
            );
          prune('2026-11-10T13:00:00Z');
          client.expireCache();
          assert.deepEqual(
            listed().map((i) => i.fingerprint),
            [fp.v2],
          );
          assert.equal(aliasTarget(), fp.v2);
          assert.throws(() => lxc(['image', 'info', `${remote}:${fp.v1}`]), 'the client no longer finds version 1');
          for (const f of v1Files) assert.equal(status(`${server.url}/${f}`, tls).code, 200, `${f} is downloadable during the grace period`);

          prune('2026-11-10T14:59:00Z');
          for (const f of v1Files) assert.equal(status(`${server.url}/${f}`, tls).code, 200, `${f}: the grace period is not over`);
          prune('2026-11-10T15:00:00Z');
          for (const f of v1Files) assert.equal(status(`${server.url}/${f}`, tls).code, 404, `${f} is gone after the grace period`);
          if (s3) for (const f of v1Files) assert.equal(await s3.get(`life-${id}/${f}`), null, `${f} was deleted from the bucket`);
          assert.deepEqual(
            listed().map((i) => i.fingerprint),
            [fp.v2],
            'version 2 is untouched',
          );
          lxc(['image', 'delete', `local:${fp.v2}`]);
          lxc(['image', 'copy', `${remote}:${os1}/1`, 'local:']);
        });
      },
    );
