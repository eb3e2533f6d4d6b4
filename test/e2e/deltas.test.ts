// Squashfs deltas with each real client (LXD, then Incus): the client holds version 1 of a
// split squashfs image, version 2 is published with --deltas, and its full squashfs is then
// removed from the served tree. The client can still copy version 2 — only by fetching the
// delta and applying it with xdelta3 to its copy of version 1 — and cannot without version 1
// in its store.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { markerRootfs, metadataTarball, put, squashfs } from '../support/images.js';
import { ensureTestTls } from '../support/tls.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { startServe } from '../support/servers.js';
import { CLIENTS, clientRequirements } from '../support/clients.js';
import { build, type Catalog } from '../../generator/index.js';

for (const client of CLIENTS) {
  const skip = clientRequirements(client, ['mksquashfs', 'xdelta3', 'openssl', 'update-ca-certificates']);
  const { run: lxc, cleanup: lxcCleanup } = client;

  describe(`squashfs deltas with real ${client.label}`, { skip }, () => {
    const id = randomBytes(3).toString('hex');
    const remote = `ss-delta-${id}`;
    const osName = `delta${id}`;
    let work: string;
    let live: string;
    let server: RunningServer;
    const fp: Record<string, string> = {};
    const shared = randomBytes(2 * 1024 * 1024);

    async function images(serial: string): Promise<string> {
      const dir = path.join(work, `runner-${serial}`);
      await put(path.join(dir, 'lxd.tar.xz'), await metadataTarball({ os: osName, release: '1', serial }));
      await put(path.join(dir, 'rootfs.squashfs'), await squashfs([...markerRootfs(serial), { name: 'shared.bin', content: shared }]));
      return dir;
    }
    const catalogOf = () => JSON.parse(readFileSync(path.join(live, 'catalog.json'), 'utf8')) as Catalog;
    const deleteLocal = (f: string) => lxcCleanup([['image', 'delete', `local:${f}`]]);

    before(async () => {
      const tls = ensureTestTls();
      client.ensure(tls.newlyTrusted);
      work = mkdtempSync(path.join(os.tmpdir(), 'ss-delta-'));
      live = path.join(work, 'live');
      await build({ images: await images('20261101_00:00'), out: live, site: false });
      fp.v1 = catalogOf().products[0]!.versions[0]!.images[0]!.fingerprint;
      await build({ images: await images('20261110_00:00'), previous: live, out: live, site: false, deltas: true });
      const v2 = catalogOf().products[0]!.versions[0]!;
      fp.v2 = v2.images[0]!.fingerprint;
      // Only the delta can give the client version 2's squashfs now.
      const squash = v2.images[0]!.files.find((f) => f.ftype === 'squashfs')!;
      rmSync(path.join(live, squash.path));
      server = await startServe(live, await freePort(), tls);
      lxc(['remote', 'add', remote, server.url, '--protocol', 'simplestreams', '--accept-certificate']);
      client.expireCache();
    });
    after(async () => {
      lxcCleanup([
        ['remote', 'remove', remote],
        ['image', 'delete', `local:${fp.v1}`],
        ['image', 'delete', `local:${fp.v2}`],
      ]);
      await server?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('without version 1 in its store, the client cannot get version 2 (its squashfs is gone)', () => {
      deleteLocal(fp.v1!);
      assert.throws(
        () => lxc(['image', 'copy', `${remote}:${fp.v2}`, 'local:']),
        (e: Error & { stderr?: string }) => /Unable to fetch \S+\.squashfs: (404|resource not found)/.test(e.stderr ?? ''),
      );
    });

    it('with version 1 in its store, the client builds version 2 from the delta', () => {
      lxc(['image', 'copy', `${remote}:${fp.v1}`, 'local:']);
      lxc(['image', 'copy', `${remote}:${fp.v2}`, 'local:']);
      assert.match(lxc(['image', 'info', `local:${fp.v2}`]), new RegExp(`Fingerprint: ${fp.v2}`));
    });
  });
}
