// `staticstreams mirror` against real upstream shapes served by real nginx over TLS — a tree made
// by the real incus-simplestreams (Incus-only items, os:release:variant:arch keys), one in the
// shape of images.lxd.canonical.com (simplestream-maintainer: LXD-only items, both combined
// hashes on one lxd.tar.xz, a .vcdiff delta), and one made by `staticstreams build` — all three
// mirrored in one run; then real LXD and real Incus list every image under the upstream's
// fingerprint, launch a container from each upstream and copy a VM image. A rerun asks nginx for
// no image file (its access log), and a filtered rerun keeps exactly what the filter selects.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from '../../generator/index.js';
import { busyboxRootfs, metadataTarball, put, qcow2Bytes, squashfs } from '../support/images.js';
import { incusSimplestreamsTree, maintainerTree } from '../support/peer-trees.js';
import { ensureTestTls } from '../support/tls.js';
import { startNginx } from '../support/nginx.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { startServe } from '../support/servers.js';
import { CLIENTS, clientRequirements, readInContainer } from '../support/clients.js';
import { requirements } from '../support/require.js';
import { runCli } from '../support/cli.js';
import { productsOf as readProducts } from '../support/tree.js';

const TOOLS = ['nginx', 'incus-simplestreams', 'mksquashfs', 'xdelta3', 'openssl', 'update-ca-certificates'];
const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

const mirror = (args: string[], cwd: string) => runCli(['mirror', ...args], { cwd, env: { ...process.env, NODE_EXTRA_CA_CERTS: ensureTestTls().caCert } });

interface Products {
  [key: string]: { aliases?: string; versions: Record<string, { items: Record<string, { ftype: string; path: string }> }> };
}

/** The products of the tree's products file. */
const productsOf = (tree: string): Products => readProducts(tree).products;

interface Made {
  /** Upstream path under the nginx root. */
  at: string;
  /** One container per upstream: fingerprint and the marker inside it. */
  container: { fp: string; marker: string };
  vm?: string;
  all: string[];
}

describe('mirroring real upstream shapes, served by nginx: LXD and Incus launch from the mirror', () => {
  const id = randomBytes(3).toString('hex');
  let work: string;
  let nginx: RunningServer & { accessLog: string };
  let served: RunningServer;
  const made: Made[] = [];
  const skip = requirements(TOOLS, { root: true });
  const ready = CLIENTS.filter((c) => !clientRequirements(c, TOOLS));

  before(async () => {
    if (skip) return;
    const tls = ensureTestTls();
    for (const c of ready) c.ensure(tls.newlyTrusted);
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-mirror-e2e-'));
    const root = path.join(work, 'upstreams');

    // 1. incus-simplestreams: a container (squashfs) and a VM (qcow2).
    {
      const o = `iss${id}`;
      const m = await metadataTarball({
        os: o,
        release: '1',
        variant: 'default',
        serial: '20261101_00:00',
        creationDate: Date.UTC(2026, 10, 1) / 1000,
        extra: { architecture: 'amd64' },
      });
      const r = await squashfs(await busyboxRootfs('from-incus-simplestreams'));
      const mv = await metadataTarball({
        os: o,
        release: '1',
        variant: 'default',
        serial: '20261102_00:00',
        creationDate: Date.UTC(2026, 10, 2) / 1000,
        description: 'vm',
        extra: { architecture: 'amd64' },
      });
      const q = await qcow2Bytes(8);
      for (const [name, data] of [
        ['c.tar.xz', m],
        ['c.squashfs', r],
        ['v.tar.xz', mv],
        ['v.qcow2', q],
      ] as const)
        await put(path.join(work, 'in', name), data);
      incusSimplestreamsTree(path.join(root, 'iss'), [
        [path.join(work, 'in/c.tar.xz'), path.join(work, 'in/c.squashfs')],
        [path.join(work, 'in/v.tar.xz'), path.join(work, 'in/v.qcow2')],
      ]);
      made.push({ at: 'iss/', container: { fp: sha256(m, r), marker: 'from-incus-simplestreams' }, vm: sha256(mv, q), all: [sha256(m, r), sha256(mv, q)] });
    }
    // 2. images.lxd.canonical.com's shape: two versions, a delta between them, LXD-only items.
    {
      const o = `maint${id}`;
      const v1 = {
        meta: await metadataTarball({ os: o, release: '1', variant: 'default', serial: '20261101_00:00' }),
        root: await squashfs(await busyboxRootfs('maint-1')),
      };
      const v2 = {
        meta: await metadataTarball({ os: o, release: '1', variant: 'default', serial: '20261102_00:00' }),
        root: await squashfs(await busyboxRootfs('maint-2')),
      };
      const q = await qcow2Bytes(8);
      maintainerTree(path.join(root, 'maint'), { os: o, release: '1', arch: 'amd64', variant: 'default', aliases: `${o}/1/default,${o}/1` }, [
        { key: '20261101_00:00', meta: v1.meta, squashfs: v1.root },
        { key: '20261102_00:00', meta: v2.meta, squashfs: v2.root, qcow2: q },
      ]);
      made.push({
        at: 'maint/',
        container: { fp: sha256(v2.meta, v2.root), marker: 'maint-2' },
        vm: sha256(v2.meta, q),
        all: [sha256(v1.meta, v1.root), sha256(v2.meta, v2.root), sha256(v2.meta, q)],
      });
    }
    // 3. A staticstreams tree.
    {
      const o = `ours${id}`;
      const m = await metadataTarball({ os: o, release: '1', variant: 'default', serial: '20261101_00:00' });
      const r = await squashfs(await busyboxRootfs('from-staticstreams'));
      await put(path.join(work, 'ours-in/lxd.tar.xz'), m);
      await put(path.join(work, 'ours-in/rootfs.squashfs'), r);
      await build({ images: path.join(work, 'ours-in'), out: path.join(root, 'ours'), site: false });
      made.push({ at: 'ours/', container: { fp: sha256(m, r), marker: 'from-staticstreams' }, all: [sha256(m, r)] });
    }
    nginx = await startNginx(root, tls);
  });
  after(async () => {
    await served?.stop();
    await nginx?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const upstreamUrls = () => made.map((m) => `${nginx.url}/${m.at}`);
  const imageRequests = () =>
    readFileSync(nginx.accessLog, 'utf8')
      .split('\n')
      .filter((l) => / "GET \/[a-z]+\/images\//.test(l));

  it('mirrors the three shapes in one run, verified; a rerun requests no image file', { skip }, async () => {
    const out = path.join(work, 'mirror');
    const r = await mirror([...upstreamUrls(), '--out', out, '--no-site', '--json'], work);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.mirror.upstreams.length, 3);
    assert.equal(
      summary.images,
      made.reduce((n, m) => n + m.all.length, 0),
    );
    // Every upstream item as published (product and version keys, paths, hashes), aliases kept,
    // the maintainer's delta among them.
    const mirrored = productsOf(out);
    for (const m of made) {
      for (const [pkey, p] of Object.entries(productsOf(path.join(work, 'upstreams', m.at)))) {
        for (const alias of (p.aliases ?? '').split(',').filter(Boolean)) assert.ok(mirrored[pkey]!.aliases!.split(',').includes(alias), `${pkey}: ${alias}`);
        for (const [vkey, v] of Object.entries(p.versions))
          for (const [ikey, item] of Object.entries(v.items))
            assert.deepEqual(mirrored[pkey]?.versions[vkey]?.items[ikey], item, `${m.at} ${pkey} ${vkey} ${ikey}`);
      }
    }
    assert.ok(
      Object.values(mirrored).some((p) => Object.values(p.versions).some((v) => Object.values(v.items).some((i) => i.ftype === 'squashfs.vcdiff'))),
      'the delta is mirrored',
    );
    const before = imageRequests().length;
    assert.ok(before > 0);
    const again = await mirror([...upstreamUrls(), '--out', out, '--no-site', '--json'], work);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(imageRequests().length, before, 'the rerun asked nginx for no image file');
    assert.deepEqual(JSON.parse(again.stdout).mirror.downloadedVersions, []);
    served = await startServe(out, await freePort(), ensureTestTls());
  });

  for (const client of CLIENTS) {
    it(
      `real ${client.label} lists, launches and copies from the mirror with the upstream fingerprints`,
      { skip: skip || clientRequirements(client, TOOLS) },
      () => {
        assert.ok(served, 'the mirror was built and served');
        const remote = `ss-mirror-${id}`;
        const containers = made.map((_, i) => `ss-mirror-${id}-${i}`);
        const all = made.flatMap((m) => m.all);
        const run = client.run;
        try {
          run(['remote', 'add', remote, served.url, '--protocol', 'simplestreams', '--accept-certificate']);
          const listed = (JSON.parse(run(['image', 'list', `${remote}:`, '--format', 'json'])) as { fingerprint: string }[]).map((i) => i.fingerprint).sort();
          assert.deepEqual(listed, [...all].sort(), 'every upstream image, under its upstream fingerprint');
          made.forEach((m, i) => {
            run(['launch', `${remote}:${m.container.fp}`, containers[i]!]);
            assert.equal(readInContainer(client, containers[i]!, '/marker').trim(), m.container.marker, m.at);
          });
          const vm = made.find((m) => m.vm)!.vm!;
          run(['image', 'copy', `${remote}:${vm}`, 'local:']);
          assert.match(run(['image', 'info', `local:${vm}`]), /Type: virtual-machine/);
        } finally {
          client.cleanup([...containers.map((c) => ['delete', '--force', c]), ['remote', 'remove', remote], ...all.map((f) => ['image', 'delete', f])]);
        }
      },
    );
  }

  it('a filtered mirror keeps exactly what the filter selects (type, keep, either arch name)', { skip }, async () => {
    const out = path.join(work, 'filtered');
    const r = await mirror(
      [...upstreamUrls(), '--out', out, '--no-site', '--filter', 'type=container', '--filter', 'arch=x86_64', '--keep', '1', '--json'],
      work,
    );
    assert.equal(r.status, 0, r.stderr);
    const list = (await runCli(['list', out, '--format', 'json'], { cwd: work })).stdout;
    const fps = (JSON.parse(list) as { fingerprint: string; type: string }[]).map((i) => i.fingerprint).sort();
    assert.deepEqual(fps, made.map((m) => m.container.fp).sort(), 'the newest container of each upstream product, nothing else');
  });
});
