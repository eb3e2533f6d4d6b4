// Switching from another tool, with the real clients: a tree made by the real incus-simplestreams
// (Incus-only items) and one in the shape of images.lxd.canonical.com (simplestream-maintainer,
// LXD-only items) are each carried over by `staticstreams build --previous PEER` with a new
// image; the result is served, and real LXD and real Incus each list every image (adopted and
// new), launch an adopted one and the new one by its alias, and copy the adopted VM image.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { busyboxRootfs, metadataTarball, put, qcow2Bytes, squashfs } from '../support/images.js';
import { incusSimplestreamsTree, maintainerTree } from '../support/peer-trees.js';
import { ensureTestTls } from '../support/tls.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { startServe } from '../support/servers.js';
import { CLIENTS, clientRequirements, readInContainer } from '../support/clients.js';
import { build } from '../../generator/index.js';

const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

interface Tree {
  name: string;
  /** Makes the peer tree in `dir`; returns the fingerprints and markers of what it publishes. */
  make(
    dir: string,
    id: string,
  ): Promise<{ container: { fp: string; marker: string }; vm: string; all: string[]; os: string; release: string; variant: string }>;
  tools: string[];
}

const TREES: Tree[] = [
  {
    name: 'incus-simplestreams',
    tools: ['incus-simplestreams', 'mksquashfs'],
    async make(dir, id) {
      const os = `peer${id}`;
      const meta = (day: number, description: string) =>
        metadataTarball({
          os,
          release: '1',
          variant: 'default',
          serial: `202611${String(day).padStart(2, '0')}_0000`,
          creationDate: Date.UTC(2026, 10, day) / 1000,
          description,
          extra: { architecture: 'amd64' },
        });
      const m1 = await meta(1, 'container');
      const r1 = await squashfs(await busyboxRootfs('adopted-incus-simplestreams'));
      const mv = await meta(2, 'vm');
      const q = await qcow2Bytes(8);
      await put(path.join(dir, 'in/c.tar.xz'), m1);
      await put(path.join(dir, 'in/c.squashfs'), r1);
      await put(path.join(dir, 'in/v.tar.xz'), mv);
      await put(path.join(dir, 'in/v.qcow2'), q);
      incusSimplestreamsTree(path.join(dir, 'peer'), [
        [path.join(dir, 'in/c.tar.xz'), path.join(dir, 'in/c.squashfs')],
        [path.join(dir, 'in/v.tar.xz'), path.join(dir, 'in/v.qcow2')],
      ]);
      const container = sha256(m1, r1);
      const vm = sha256(mv, q);
      return { container: { fp: container, marker: 'adopted-incus-simplestreams' }, vm, all: [container, vm], os, release: '1', variant: 'default' };
    },
  },
  {
    name: 'simplestream-maintainer (images.lxd.canonical.com shape)',
    tools: ['xdelta3', 'mksquashfs'],
    async make(dir, id) {
      const os = `maint${id}`;
      const meta = await metadataTarball({ os, release: '1', variant: 'default', serial: '20261101_0000' });
      const root = await squashfs(await busyboxRootfs('adopted-maintainer'));
      const q = await qcow2Bytes(8);
      maintainerTree(path.join(dir, 'peer'), { os, release: '1', arch: 'amd64', variant: 'default', aliases: `${os}/1/default,${os}/1` }, [
        { key: '20261101_0000', meta, squashfs: root, qcow2: q },
      ]);
      const container = sha256(meta, root);
      const vm = sha256(meta, q);
      return { container: { fp: container, marker: 'adopted-maintainer' }, vm, all: [container, vm], os, release: '1', variant: 'default' };
    },
  },
];

for (const tree of TREES) {
  describe(`switching from ${tree.name}: LXD and Incus see, copy and launch adopted and new images`, () => {
    const id = randomBytes(3).toString('hex');
    let work: string;
    let server: RunningServer;
    let made: Awaited<ReturnType<Tree['make']>>;
    let fresh: string;
    const ready = CLIENTS.filter((c) => !clientRequirements(c, [...tree.tools, 'openssl', 'update-ca-certificates']));

    before(async () => {
      if (ready.length === 0) return;
      const tls = ensureTestTls();
      for (const c of ready) c.ensure(tls.newlyTrusted);
      work = mkdtempSync(path.join(os.tmpdir(), 'ss-adopt-'));
      made = await tree.make(work, id);
      const images = path.join(work, 'new');
      const meta = await metadataTarball({ os: made.os, release: made.release, variant: made.variant, serial: '20261110_0000' });
      const root = await squashfs(await busyboxRootfs('new-after-adoption'));
      await put(path.join(images, 'lxd.tar.xz'), meta);
      await put(path.join(images, 'rootfs.squashfs'), root);
      fresh = sha256(meta, root);
      const out = path.join(work, 'out');
      await build({ images, previous: path.join(work, 'peer'), out, site: false });
      server = await startServe(out, await freePort(), tls);
    });
    after(async () => {
      await server?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    for (const client of CLIENTS) {
      it(`with real ${client.label}`, { skip: clientRequirements(client, [...tree.tools, 'openssl', 'update-ca-certificates']) }, () => {
        const remote = `ss-adopt-${id}`;
        const containers = [`ss-adopt-${id}-old`, `ss-adopt-${id}-new`];
        const run = client.run;
        try {
          run(['remote', 'add', remote, server.url, '--protocol', 'simplestreams', '--accept-certificate']);
          const listed = (JSON.parse(run(['image', 'list', `${remote}:`, '--format', 'json'])) as { fingerprint: string }[]).map((i) => i.fingerprint).sort();
          assert.deepEqual(listed, [...made.all, fresh].sort(), 'every adopted image and the new one');
          run(['launch', `${remote}:${made.container.fp}`, containers[0]!]);
          assert.equal(readInContainer(client, containers[0]!, '/marker').trim(), made.container.marker);
          run(['launch', `${remote}:${made.os}/${made.release}`, containers[1]!]);
          assert.equal(readInContainer(client, containers[1]!, '/marker').trim(), 'new-after-adoption', 'the alias follows the new version');
          run(['image', 'copy', `${remote}:${made.vm}`, 'local:']);
          assert.match(run(['image', 'info', `local:${made.vm}`]), /Type: virtual-machine/);
        } finally {
          client.cleanup([
            ...containers.map((c) => ['delete', '--force', c]),
            ['remote', 'remove', remote],
            ...[...made.all, fresh].map((f) => ['image', 'delete', f]),
          ]);
        }
      });
    }
  });
}
