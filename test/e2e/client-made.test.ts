// Images the clients make: LXD and Incus each publish a container (`publish --compression C`
// with every compression both clients offer and we read) and export it (`image export`:
// unified tarballs, and the split export of a squashfs image). The exports are built as they
// are — no renaming — and served; then each client launches every image, by the fingerprint
// its maker computed, after the maker has forgotten its own copy (so it is really fetched).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { requirements } from '../support/require.js';
import { ensureTestTls } from '../support/tls.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { startServe } from '../support/servers.js';
import { CLIENTS, type Client, readInContainer } from '../support/clients.js';
import { build } from '../../generator/index.js';

const skip = requirements([...CLIENTS.flatMap((c) => c.tools), 'openssl', 'update-ca-certificates'], { root: true });
const SAMPLE = path.resolve('images/busybox/amd64');
/** Every `publish --compression` value both clients offer on Debian that staticstreams reads. */
const COMPRESSIONS = ['gzip', 'xz', 'zstd', 'bzip2', 'none'] as const;
/** Offered too, but not read: legacy LZMA-alone, and a whole image as one squashfs. */
const UNREAD = ['lzma', 'squashfs'] as const;

interface Made {
  maker: Client;
  name: string;
  fingerprint: string;
  marker: string;
}

describe('images made by the clients (publish + export) round-trip through both clients', { skip }, () => {
  const id = randomBytes(3).toString('hex');
  const remote = `ss-made-${id}`;
  let work: string;
  let images: string;
  let server: RunningServer;
  const made: Made[] = [];
  const containers: [Client, string][] = [];

  /** `publish` prints "… with fingerprint: FP" once it is done. */
  const fingerprintOf = (output: string) => /fingerprint: ([0-9a-f]{64})/.exec(output)![1]!;

  before(async () => {
    const tls = ensureTestTls();
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-made-'));
    images = path.join(work, 'images');
    for (const maker of CLIENTS) {
      maker.ensure(tls.newlyTrusted);
      const who = maker.command;
      const source = `ss-made-src-${id}`;
      // A container from the bootable sample, changed so the published images are the maker's own.
      const base = fingerprintOf(maker.run(['image', 'import', `${SAMPLE}/lxd.tar.xz`, `${SAMPLE}/rootfs.squashfs`, '--alias', `ss-made-base-${id}`]));
      maker.run(['launch', `ss-made-base-${id}`, source]);
      containers.push([maker, source]);
      for (const compression of COMPRESSIONS) {
        const marker = `made-by-${who}-${compression}`;
        maker.run(['exec', source, '--', 'sh', '-c', `echo ${marker} > /marker`]);
        maker.run(['stop', '--force', source]);
        const name = `${who}-${compression}`;
        const fingerprint = fingerprintOf(
          maker.run([
            'publish',
            source,
            '--compression',
            compression,
            `os=made${id}`,
            `release=${who}`,
            `variant=${compression}`,
            'serial=20261127_00:00',
            `description=published by ${who} with ${compression}`,
          ]),
        );
        const dir = path.join(images, name);
        mkdirSync(dir, { recursive: true });
        maker.run(['image', 'export', fingerprint, `${dir}/`]);
        maker.run(['image', 'delete', fingerprint]);
        made.push({ maker, name, fingerprint, marker });
        maker.run(['start', source]);
      }
      // Offered by the clients, not read by staticstreams yet: each must fail with a clear error.
      for (const compression of UNREAD) {
        maker.run(['stop', '--force', source]);
        const fingerprint = fingerprintOf(
          maker.run(['publish', source, '--compression', compression, `os=made${id}`, `release=${who}`, `variant=${compression}`, 'serial=20261127_00:00']),
        );
        const dir = path.join(work, 'unread', `${who}-${compression}`);
        mkdirSync(dir, { recursive: true });
        maker.run(['image', 'export', fingerprint, `${dir}/`]);
        maker.run(['image', 'delete', fingerprint]);
        maker.run(['start', source]);
      }
      if (maker === CLIENTS[CLIENTS.length - 1]) {
        // The split export (metadata tarball + squashfs) of the image the maker imported.
        const dir = path.join(images, `${who}-split`);
        mkdirSync(dir, { recursive: true });
        maker.run(['image', 'export', base, `${dir}/`]);
        assert.deepEqual(readdirSync(dir).sort(), [`${base}.squashfs`, `meta-${base}.tar.xz`]);
        made.push({ maker, name: `${who}-split`, fingerprint: base, marker: 'staticstreams-sample' });
      }
      maker.cleanup([
        ['delete', '--force', source],
        ['image', 'delete', base],
      ]);
    }
    const out = path.join(work, 'dist');
    await build({ images, out, site: false });
    server = await startServe(out, await freePort(), tls);
  });

  after(async () => {
    for (const client of CLIENTS) {
      client.cleanup([['remote', 'remove', remote], ['image', 'delete', `ss-made-base-${id}`], ...made.map((m) => ['image', 'delete', m.fingerprint])]);
    }
    for (const [client, name] of containers) client.cleanup([['delete', '--force', name]]);
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the exports staticstreams cannot read yet (lzma, squashfs) fail the build with a clear error each', async () => {
    const r = spawnSync(
      process.execPath,
      [path.resolve('bin/staticstreams.js'), 'build', '--images', path.join(work, 'unread'), '--out', path.join(work, 'unread-out'), '--no-site'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1, r.stderr);
    for (const client of CLIENTS) {
      assert.match(r.stderr, new RegExp(`${client.command}-lzma/[0-9a-f]{64}\\.tar\\.lzma: uses legacy \\.lzma \\(LZMA-alone\\) compression`));
      assert.match(r.stderr, new RegExp(`${client.command}-squashfs/[0-9a-f]{64}\\.squashfs: is a squashfs rootfs with no metadata tarball next to it`));
    }
    assert.match(r.stderr, /publish it again with --compression xz, gzip or zstd/);
  });

  for (const client of CLIENTS) {
    it(`${client.label} lists every exported image under the fingerprint its maker computed, and launches each`, () => {
      client.run(['remote', 'add', remote, server.url, '--protocol', 'simplestreams', '--accept-certificate']);
      const listed = JSON.parse(client.run(['image', 'list', `${remote}:`, '--format', 'json'])) as { fingerprint: string }[];
      assert.deepEqual(listed.map((i) => i.fingerprint).sort(), made.map((m) => m.fingerprint).sort());
      for (const image of made) {
        const container = `ss-made-${id}-${image.name}`;
        containers.push([client, container]);
        client.run(['launch', `${remote}:${image.fingerprint}`, container]);
        assert.equal(readInContainer(client, container, '/marker').trim(), image.marker, `${client.label} runs ${image.name}`);
        client.cleanup([
          ['delete', '--force', container],
          ['image', 'delete', image.fingerprint],
        ]);
      }
    });
  }
});
