// End-to-end with the real clients: build the sample images (plus a newer version; the last
// build writes into the tree an earlier one replaced), serve the tree with nginx over TLS 1.3,
// and have Debian's LXD and Incus each list, copy and launch from it; and an archive cut short,
// refused by the build, that both clients would list. The last build has lxc: true: the root
// tarballs made for LXC are second images the clients list and copy; aliases stay on squashfs.
// It is also signed (a key made with gpg): the clients list and launch from a signed tree as from
// any other, and the catalogue's verification commands, run as written against nginx, pass with gpgv.
// The newest version lists manifest items (package list, SBOM): both clients skip them.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { busyboxRootfs, compress, metadataTarball, metadataYaml, put, squashfs, tarball } from '../support/images.js';
import { ensureTestTls } from '../support/tls.js';
import { startNginx } from '../support/nginx.js';
import type { RunningServer } from '../support/server-process.js';
import { CLIENTS, clientRequirements, readInContainer } from '../support/clients.js';
import { build, DEFAULT_CONFIG, verifyTree } from '../../generator/index.js';
import type { Catalog } from '../../generator/formats/catalog.js';
import { verifyCommands } from '../../site/src/lib/commands.js';
import { cleanupKey, makeKey, type TestKey } from '../support/gpg.js';
import { machineDpkgStatus } from '../support/package-dbs.js';

const SAMPLES = path.resolve('images');

/** sha256 of the concatenation of files, computed by coreutils, not by staticstreams. */
function sha256sumOf(...files: string[]): string {
  return execFileSync('sh', ['-c', 'cat "$@" | sha256sum', 'sh', ...files], { encoding: 'utf8' }).split(' ')[0]!;
}

interface ListedImage {
  fingerprint: string;
  type: string;
  architecture: string;
  aliases: { name: string }[];
}

for (const client of CLIENTS) {
  const skip = clientRequirements(client, ['nginx', 'openssl', 'update-ca-certificates', 'mksquashfs', 'sha256sum', 'gpg', 'gpgv', 'curl']);
  const { run: lxc, cleanup: lxcCleanup } = client;

  describe(`real ${client.label} against a tree served by nginx`, { skip }, () => {
    const id = randomBytes(3).toString('hex');
    const remote = `ss-e2e-${id}`;
    const container = `ss-e2e-${id}`;
    let work: string;
    let server: RunningServer;
    let key: TestKey | undefined;
    const expected: Record<string, string> = {};
    const copied: string[] = [];

    before(async () => {
      const tls = ensureTestTls();
      client.ensure(tls.newlyTrusted);
      work = mkdtempSync(path.join(os.tmpdir(), 'ss-e2e-'));
      const images = path.join(work, 'images');
      cpSync(SAMPLES, images, { recursive: true });
      // A newer, bootable version of the default product: the aliases must move to it.
      await put(
        `${images}/busybox/amd64-v2/lxd.tar.xz`,
        await metadataTarball({ os: 'busybox', release: '1.36', serial: '20261102_06:00', creationDate: 1794117600, description: 'BusyBox v2' }),
      );
      // It holds a package database (this machine's dpkg status): its version gets manifest items
      // (a package list, an SPDX SBOM), which both clients must skip as item types they do not know.
      await put(
        `${images}/busybox/amd64-v2/rootfs.squashfs`,
        await squashfs([...(await busyboxRootfs('staticstreams-v2')), { name: 'var/lib/dpkg/status', content: machineDpkgStatus() }]),
      );

      expected.squashfsV1 = sha256sumOf(`${images}/busybox/amd64/lxd.tar.xz`, `${images}/busybox/amd64/rootfs.squashfs`);
      expected.squashfsV2 = sha256sumOf(`${images}/busybox/amd64-v2/lxd.tar.xz`, `${images}/busybox/amd64-v2/rootfs.squashfs`);
      expected.vm = sha256sumOf(`${images}/busybox/amd64-vm/lxd.tar.xz`, `${images}/busybox/amd64-vm/disk.qcow2`);
      expected.arm64 = sha256sumOf(`${images}/busybox/arm64/lxd.tar.xz`, `${images}/busybox/arm64/rootfs.squashfs`);
      expected.rootTarball = sha256sumOf(`${images}/exported/meta-minimal.tar.xz`, `${images}/exported/minimal.tar.gz`);
      expected.unified = sha256sumOf(`${images}/unified/busybox-unified.tar.gz`);
      expected.unifiedArm64 = sha256sumOf(`${images}/unified/busybox-unified-arm64.tar.gz`);

      // As a pipeline that publishes every change does: the tree the clients read is written
      // into the one the build before replaced (`.dist.spare`), not into an empty folder.
      const out = path.join(work, 'dist');
      await build({ images, out, site: false });
      renameSync(`${images}/busybox/amd64-v2`, `${work}/amd64-v2`);
      await build({ images, out, site: false });
      renameSync(`${work}/amd64-v2`, `${images}/busybox/amd64-v2`);
      assert.ok(existsSync(path.join(work, '.dist.spare')), 'the first tree was kept as the spare');
      // The last build also serves LXC (lxc: true): each squashfs version gains a root tarball,
      // a second image of the version for the clients; aliases must stay on the squashfs image.
      key = makeKey(work);
      await build({ images, out, site: false, config: { ...DEFAULT_CONFIG, lxc: true }, env: { STATICSTREAMS_SIGNING_KEY: key.secret } });
      const products = JSON.parse(readFileSync(path.join(out, 'streams/v1/images.json'), 'utf8')) as {
        products: Record<string, { versions: Record<string, { items: Record<string, { ftype: string; path: string }> }> }>;
      };
      for (const [key, product] of Object.entries(products.products))
        for (const [version, { items }] of Object.entries(product.versions)) {
          const root = items['root.tar.xz'];
          if (!root?.path.includes('/lxc-') || root.ftype !== 'root.tar.xz') continue;
          expected[`lxc ${key} ${version}`] = sha256sumOf(path.join(out, items['lxd.tar.xz']!.path), path.join(out, root.path));
        }
      assert.equal(Object.keys(expected).filter((k) => k.startsWith('lxc ')).length, 3, 'a root tarball image for each squashfs version');
      const v2 = products.products['busybox:1.36:amd64:default']!.versions['20261102_06:00']!.items;
      assert.deepEqual(
        Object.values(v2)
          .map((i) => i.ftype)
          .filter((f) => ['manifest', 'manifest.json', 'spdx.json'].includes(f))
          .sort(),
        ['manifest', 'manifest.json', 'spdx.json'],
        'the version the clients launch lists its package list and SBOM',
      );
      const report = await verifyTree(out);
      assert.deepEqual(
        report.problems.filter((p) => p.severity === 'error'),
        [],
      );
      server = await startNginx(out, tls);
      lxc(['remote', 'add', remote, server.url, '--protocol', 'simplestreams', '--accept-certificate']);
    });

    after(async () => {
      lxcCleanup([['delete', '--force', container], ['remote', 'remove', remote], ...copied.map((fp) => ['image', 'delete', `local:${fp}`])]);
      await server?.stop();
      if (key) cleanupKey(key);
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it("the catalogue's verification commands, run as written against the server, pass with gpgv and only the public key", () => {
      const catalog = JSON.parse(readFileSync(path.join(work, 'dist/catalog.json'), 'utf8')) as Catalog;
      assert.equal(catalog.signing?.fingerprint, key!.fingerprint);
      const cmds = verifyCommands(server.url, catalog.signing!);
      const shell = path.join(work, 'checker');
      mkdirSync(shell, { recursive: true });
      for (const cmd of [cmds.key, cmds.gpgv]) execFileSync('sh', ['-c', cmd], { cwd: shell, stdio: 'pipe' });
      // LXC's index is signed too
      execFileSync(
        'sh',
        [
          '-c',
          `curl -fsSLO ${server.url}/meta/1.0/index-system && curl -fsSLO ${server.url}/meta/1.0/index-system.asc && gpgv --keyring ./signing-key.gpg index-system.asc index-system`,
        ],
        {
          cwd: shell,
          stdio: 'pipe',
        },
      );
    });

    it('lists exactly the published images with independently computed fingerprints', () => {
      const listed = JSON.parse(lxc(['image', 'list', `${remote}:`, '--format', 'json'])) as ListedImage[];
      assert.deepEqual(listed.map((i) => i.fingerprint).sort(), Object.values(expected).sort());
      const byFp = new Map(listed.map((i) => [i.fingerprint, i]));
      assert.equal(byFp.get(expected.vm!)!.type, 'virtual-machine');
      assert.equal(byFp.get(expected.arm64!)!.architecture, 'aarch64');
      assert.equal(byFp.get(expected.squashfsV2!)!.architecture, 'x86_64');
    });

    it('resolves short and architecture aliases to the newest version', () => {
      const aliases = JSON.parse(lxc(['image', 'alias', 'list', `${remote}:`, '--format', 'json'])) as { name: string; target: string; type: string }[];
      const target = (name: string, type = 'container') => aliases.find((a) => a.name === name && a.type === type)?.target;
      assert.equal(target('busybox/1.36'), expected.squashfsV2);
      assert.equal(target('busybox/1.36/default/amd64'), expected.squashfsV2);
      assert.equal(target('busybox/1.36/arm64'), expected.arm64);
      assert.equal(target('busybox/1.36', 'virtual-machine'), expected.vm);
      assert.equal(target('busybox/1.36/minimal'), expected.rootTarball);
      assert.equal(target('busybox/1.36/unified'), expected.unified);
      const info = lxc(['image', 'info', `${remote}:busybox/1.36`]);
      assert.match(info, new RegExp(`Fingerprint: ${expected.squashfsV2}`));
    });

    for (const [name, key] of [
      ['a split squashfs image', 'squashfsV1'],
      ['a split root tarball image', 'rootTarball'],
      ['a unified image', 'unified'],
      ['a VM image', 'vm'],
      ['the root tarball made for LXC (a second image of its version)', 'lxc busybox:1.36:amd64:default 20261101_12:00'],
    ] as const) {
      it(`copies ${name} with the right fingerprint`, () => {
        const fp = expected[key]!;
        assert.ok(fp, key);
        lxc(['image', 'copy', `${remote}:${fp}`, 'local:']);
        copied.push(fp);
        const info = lxc(['image', 'info', `local:${fp}`]);
        assert.match(info, new RegExp(`Fingerprint: ${fp}`));
      });
    }

    it('copies by the VM alias with --vm and by the ALIAS/arm64 alias', () => {
      lxcCleanup([
        ['image', 'delete', `local:${expected.vm}`],
        ['image', 'delete', `local:${expected.arm64}`],
      ]);
      lxc(['image', 'copy', `${remote}:busybox/1.36`, 'local:', '--vm']);
      assert.match(lxc(['image', 'info', `local:${expected.vm}`]), new RegExp(`Fingerprint: ${expected.vm}`));
      lxc(['image', 'copy', `${remote}:busybox/1.36/arm64`, 'local:']);
      copied.push(expected.arm64!);
      const info = lxc(['image', 'info', `local:${expected.arm64}`]);
      assert.match(info, new RegExp(`Fingerprint: ${expected.arm64}`));
      assert.match(info, /Architecture: aarch64/);
    });

    it('launches a container from the alias and reads the marker file inside it', () => {
      lxc(['launch', `${remote}:busybox/1.36`, container]);
      copied.push(expected.squashfsV2!);
      const marker = readInContainer(client, container, '/marker').trim();
      assert.equal(marker, 'staticstreams-v2');
    });
  });

  describe(`real ${client.label} and an archive cut short after metadata.yaml`, { skip }, () => {
    const id = randomBytes(3).toString('hex');
    const remote = `ss-cut-${id}`;
    const container = `ss-cut-${id}`;
    let work: string;
    let server: RunningServer;

    after(async () => {
      lxcCleanup([
        ['delete', '--force', container],
        ['remote', 'remove', remote],
      ]);
      await server?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('the build refuses it; the same file published by hand is listed by the client but cannot be launched', async () => {
      const tls = ensureTestTls();
      client.ensure(tls.newlyTrusted);
      work = mkdtempSync(path.join(os.tmpdir(), 'ss-cut-'));
      const meta = metadataYaml({ os: 'cutshort', release: '1', serial: '20261101_12:00' });
      const whole = compress(
        await tarball([
          { name: 'metadata.yaml', content: meta },
          { name: 'rootfs/' },
          ...(await busyboxRootfs('cut')).map((e) => ({ ...e, name: `rootfs/${e.name}` })),
        ]),
        'gzip',
      );
      const cut = whole.subarray(0, Math.floor(whole.length * 0.6));

      await put(`${work}/images/cut.tar.gz`, cut);
      await assert.rejects(
        build({ images: `${work}/images`, out: `${work}/refused`, site: false }),
        (e: Error & { problems?: { format(): string }[] }) =>
          e.problems?.some((p) => /cut\.tar\.gz: is cut short or corrupt after \d+ bytes/.test(p.format())) === true,
      );

      // By hand: publish the whole file, then swap in the cut bytes with their sha256 and size,
      // as a tool that trusted the archive would have.
      await put(`${work}/images/cut.tar.gz`, whole);
      const out = path.join(work, 'dist');
      await build({ images: `${work}/images`, out, site: false });
      const { createHash } = await import('node:crypto');
      const wholeSha = createHash('sha256').update(whole).digest('hex');
      const cutSha = createHash('sha256').update(cut).digest('hex');
      const index = JSON.parse(readFileSync(`${out}/streams/v1/index.json`, 'utf8')) as { index: Record<string, { path: string }> };
      const productsPath = path.join(out, Object.values(index.index)[0]!.path);
      const products = readFileSync(productsPath, 'utf8');
      const item = /"path": "([^"]+)"/.exec(products)![1]!;
      writeFileSync(path.join(out, item), cut);
      writeFileSync(productsPath, products.replaceAll(wholeSha, cutSha).replaceAll(`"size": ${whole.length}`, `"size": ${cut.length}`));
      assert.ok(
        (await verifyTree(out)).problems.some((p) => /cut short or corrupt/.test(p.message)),
        'verify catches it',
      );

      server = await startNginx(out, tls);
      lxc(['remote', 'add', remote, server.url, '--protocol', 'simplestreams', '--accept-certificate']);
      const listed = JSON.parse(lxc(['image', 'list', `${remote}:`, '--format', 'json'])) as ListedImage[];
      assert.deepEqual(
        listed.map((i) => i.fingerprint),
        [cutSha],
        `${client.label} lists the cut image`,
      );
      assert.throws(() => lxc(['launch', `${remote}:cutshort/1`, container], { timeout: 120_000 }), 'and fails when it unpacks it');
      lxcCleanup([['image', 'delete', `local:${cutSha}`]]);
    });
  });
}
