// The same built tree served by four real servers — wrangler's workerd (Cloudflare Pages), nginx
// with the generated snippets, `staticstreams serve`, and Caddy with the generated snippet — each
// checked with real LXD and real Incus: remote add + image list, direct URL import and import
// through the alias endpoint (LXD-Image-* / Incus-Image-* headers), architecture negotiation
// (LXD-Server-Architectures, Incus-Server-Architectures), cache and CORS headers. With image
// files on object storage (s3rver), every server redirects /images/ to the bucket and both
// clients copy and launch through it (lxc/incus#3081: launch, not only copy, through a redirect).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requirements } from '../support/require.js';
import { ensureTestTls, type TestTls } from '../support/tls.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { buildForHosts, HOSTS } from '../support/hosts.js';
import { CLIENTS, clientRequirements, type Client, readInContainer } from '../support/clients.js';
import { startS3, type LocalBucket } from '../support/s3.js';
import { createHash } from 'node:crypto';
import { type Catalog, configSchema, type Config } from '../../generator/index.js';

const skip = requirements(['nginx', 'caddy', 'curl', 'openssl', 'update-ca-certificates'], { root: true });
const clientSkip = (client: Client) => clientRequirements(client, []);
const SAMPLES = path.resolve('images');

interface Head {
  status: number;
  headers: Record<string, string>;
}

function curlHead(url: string, tls: TestTls, headers: Record<string, string> = {}): Head {
  const args = ['-sS', '-I', '--cacert', tls.caCert, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
  const text = execFileSync('curl', args, { encoding: 'utf8' });
  const lines = text.trim().split(/\r?\n/);
  const status = Number(lines[0]!.split(' ')[1]);
  const out: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers: out };
}

function catalogFingerprints(catalog: Catalog) {
  const all = catalog.products.flatMap((p) => p.versions.flatMap((v) => v.images.map((i) => ({ ...i, arch: p.arch, variant: p.variant }))));
  const unified = (arch: string) => all.find((i) => i.files.length === 1 && i.arch === arch)!;
  return { all: all.map((i) => i.fingerprint).sort(), amd64: unified('amd64'), arm64: unified('arm64') };
}

function deleteLocal(client: Client, fp: string): void {
  client.cleanup([['image', 'delete', `local:${fp}`]]);
}

describe('CDN delivery with real servers and real LXD and Incus', { skip }, () => {
  let tls: TestTls;
  let work: string;

  before(() => {
    tls = ensureTestTls();
    for (const client of CLIENTS) if (!clientSkip(client)) client.ensure(tls.newlyTrusted);
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-cdn-'));
    cpSync(SAMPLES, path.join(work, 'images'), { recursive: true });
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const buildFor = (name: string, port: number, config?: Config) => buildForHosts(path.join(work, 'images'), work, name, port, { config, site: false });

  for (const [label, start] of HOSTS) {
    describe(label, () => {
      let server: RunningServer;
      let catalog: Catalog;
      let fps: ReturnType<typeof catalogFingerprints>;

      before(async () => {
        const port = await freePort();
        const built = await buildFor(`s${randomBytes(3).toString('hex')}`, port);
        catalog = built.catalog;
        fps = catalogFingerprints(catalog);
        server = await start(built.out, port, tls, built.serverConfig);
      });
      after(async () => server?.stop());

      it('serves cache, CORS and content-type headers', () => {
        const index = curlHead(`${server.url}/streams/v1/index.json`, tls);
        assert.equal(index.status, 200);
        assert.equal(index.headers['cache-control'], 'public, max-age=60, must-revalidate');
        assert.equal(index.headers['access-control-allow-origin'], '*');
        assert.match(index.headers['content-type']!, /^application\/json/);
        // The products under their fixed name, for web UIs and marketplaces (also asked for as
        // //streams/v1/images.json by an endpoint ending with /).
        for (const p of ['/streams/v1/images.json', '//streams/v1/images.json']) {
          const fixed = curlHead(`${server.url}${p}`, tls);
          assert.equal(fixed.status, 200, p);
          assert.equal(fixed.headers['cache-control'], 'public, max-age=60, must-revalidate', p);
          assert.equal(fixed.headers['access-control-allow-origin'], '*', p);
        }
        const products = curlHead(`${server.url}/${catalog.streams.products}`, tls);
        assert.equal(products.headers['cache-control'], 'public, max-age=31536000, immutable');
        assert.equal(products.headers['access-control-allow-origin'], '*');
        const blob = curlHead(`${server.url}/${catalog.products[0]!.versions[0]!.images[0]!.files[0]!.path}`, tls);
        assert.equal(blob.status, 200);
        assert.equal(blob.headers['cache-control'], 'public, max-age=31536000, immutable');
        assert.notEqual(curlHead(`${server.url}/_headers`, tls).status, 200, 'the host rule files are not served');
      });

      it('negotiates the architecture on the alias endpoint (LXD-Server-Architectures, Incus-Server-Architectures)', () => {
        const endpoint = catalog.aliasEndpoints['busybox/1.36/unified']!;
        assert.equal(endpoint, `${server.url}/import/alias/busybox/1.36/unified`);
        const arm = curlHead(endpoint, tls, { 'LXD-Server-Architectures': 'aarch64, armv7l' });
        assert.equal(arm.headers['lxd-image-hash'], fps.arm64.fingerprint);
        assert.match(arm.headers['lxd-image-url']!, /^https:\/\/127\.0\.0\.1:\d+\/images\/busybox\/1\.36\/arm64\/unified\//);
        const x86 = curlHead(endpoint, tls, { 'LXD-Server-Architectures': 'x86_64, i686' });
        assert.equal(x86.headers['lxd-image-hash'], fps.amd64.fingerprint);
        const incus = curlHead(endpoint, tls, { 'Incus-Server-Architectures': 'aarch64' });
        assert.equal(incus.headers['incus-image-hash'], fps.arm64.fingerprint);
        assert.match(incus.headers['incus-image-url']!, /^https:\/\/127\.0\.0\.1:\d+\/images\/busybox\/1\.36\/arm64\/unified\//);
        // the first architecture the client lists that the alias has, on every host alike
        const second = curlHead(endpoint, tls, { 'LXD-Server-Architectures': 's390x, x86_64' });
        assert.equal(second.headers['lxd-image-hash'], fps.amd64.fingerprint);
        const incusSecond = curlHead(endpoint, tls, { 'Incus-Server-Architectures': 'riscv64, aarch64, x86_64' });
        assert.equal(incusSecond.headers['incus-image-hash'], fps.arm64.fingerprint);
        const noHeader = curlHead(endpoint, tls);
        assert.equal(noHeader.headers['lxd-image-hash'], fps.amd64.fingerprint, 'default_arch without a header');
        const none = curlHead(endpoint, tls, { 'LXD-Server-Architectures': 's390x' });
        assert.equal(none.status, 404);
        assert.equal(none.headers['lxd-image-hash'], undefined);
        const incusNone = curlHead(endpoint, tls, { 'Incus-Server-Architectures': 's390x' });
        assert.equal(incusNone.status, 404);
      });

      for (const client of CLIENTS) {
        describe(`with real ${client.label}`, { skip: clientSkip(client) }, () => {
          const remote = `ss-cdn-${randomBytes(3).toString('hex')}`;
          after(() => client.cleanup([['remote', 'remove', remote]]));

          it(`lets ${client.label} add it as a remote and list every image`, () => {
            client.run(['remote', 'add', remote, server.url, '--protocol', 'simplestreams', '--accept-certificate']);
            const listed = JSON.parse(client.run(['image', 'list', `${remote}:`, '--format', 'json'])) as { fingerprint: string }[];
            assert.deepEqual(listed.map((i) => i.fingerprint).sort(), fps.all);
          });

          it(`imports a unified image by direct URL (${client.command} image import https://…/import/sha256/FP)`, () => {
            const image = fps.amd64;
            assert.equal(image.directUrl, `${server.url}/import/sha256/${image.fingerprint}`);
            deleteLocal(client, image.fingerprint);
            client.run(['image', 'import', image.directUrl!]);
            assert.match(client.run(['image', 'info', `local:${image.fingerprint}`]), new RegExp(`Fingerprint: ${image.fingerprint}`));
            deleteLocal(client, image.fingerprint);
          });

          it(`imports through the alias endpoint, negotiating with the architectures ${client.label} sends (${client.headerPrefix}-Server-Architectures)`, () => {
            deleteLocal(client, fps.amd64.fingerprint);
            client.run(['image', 'import', catalog.aliasEndpoints['busybox/1.36/unified']!]);
            assert.match(client.run(['image', 'info', `local:${fps.amd64.fingerprint}`]), /Architecture: x86_64/);
            deleteLocal(client, fps.amd64.fingerprint);
          });
        });
      }
    });
  }

  describe('image files on object storage (s3rver): each server redirects /images/ to the bucket', () => {
    let s3: LocalBucket;
    before(async () => {
      s3 = await startS3();
    });
    after(async () => s3?.stop());

    for (const [label, start] of HOSTS) {
      it(`${label}, and LXD and Incus copy and launch through it`, async () => {
        const id = randomBytes(3).toString('hex');
        const port = await freePort();
        const prefix = `cdn-${id}/`;
        const built = await buildFor(`o${id}`, port, configSchema.parse({ object_storage: s3.settings({ prefix }) }));
        const fps = catalogFingerprints(built.catalog);
        const images = built.catalog.products.flatMap((p) => p.versions.flatMap((v) => v.images));
        const file = images.find((i) => i.fingerprint === fps.amd64.fingerprint)!.files[0]!;
        const server = await start(built.out, port, tls, built.serverConfig);
        const remote = `ss-obj-${id}`;
        const container = `ss-obj-${id}`;
        const clients = CLIENTS.filter((c) => !clientSkip(c));
        try {
          const hop = curlHead(`${server.url}/${file.path}`, tls);
          assert.equal(hop.status, 302);
          assert.equal(hop.headers.location, `${s3.publicUrl}/${prefix}${file.path}`);
          const body = execFileSync('curl', ['-sSL', '--fail', '--cacert', tls.caCert, `${server.url}/${file.path}`], { maxBuffer: 1 << 30 });
          assert.equal(createHash('sha256').update(body).digest('hex'), file.sha256, 'following the redirect gives the published bytes');
          assert.equal(curlHead(`${server.url}/streams/v1/index.json`, tls).status, 200, 'the indexes are still served by the host');
          // `staticstreams verify URL` fetches every listed file through this server (and its redirect).
          const verified = execFileSync(process.execPath, [path.resolve('bin/staticstreams.js'), 'verify', server.url], {
            encoding: 'utf8',
            env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caCert },
          });
          const files = new Set(images.flatMap((i) => i.files.map((f) => f.path))).size;
          assert.match(verified, new RegExp(`^ok: ${built.catalog.products.length} products, ${fps.all.length} images, ${files} files checked; 0 errors`, 'm'));
          // The bootable split squashfs image: launched (not only copied) through the redirect.
          const bootable = built.catalog.products
            .find((p) => p.arch === 'amd64' && p.variant === 'default')!
            .versions[0]!.images.find((i) => i.type === 'container')!;
          for (const client of clients) {
            client.run(['remote', 'add', remote, server.url, '--protocol', 'simplestreams', '--accept-certificate']);
            deleteLocal(client, fps.amd64.fingerprint);
            client.run(['image', 'copy', `${remote}:${fps.amd64.fingerprint}`, 'local:']);
            assert.match(client.run(['image', 'info', `local:${fps.amd64.fingerprint}`]), new RegExp(`Fingerprint: ${fps.amd64.fingerprint}`));
            deleteLocal(client, fps.amd64.fingerprint);
            deleteLocal(client, bootable.fingerprint);
            client.run(['launch', `${remote}:busybox/1.36`, container]);
            assert.equal(readInContainer(client, container, '/marker').trim(), 'staticstreams-sample', `${client.label} launched through the redirect`);
            client.cleanup([
              ['delete', '--force', container],
              ['image', 'delete', `local:${bootable.fingerprint}`],
              ['remote', 'remove', remote],
            ]);
          }
        } finally {
          for (const client of clients)
            client.cleanup([
              ['delete', '--force', container],
              ['remote', 'remove', remote],
            ]);
          await server.stop();
        }
      });
    }
  });
});
