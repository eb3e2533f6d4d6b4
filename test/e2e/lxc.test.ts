// The other consumers of an image server, for real: LXC 5 (`lxc-create -t download`, Debian's
// lxc) creates, starts and attaches to a container of every shape (split squashfs, split root
// tarball, unified) from a tree built with `lxc: true`, served by each of the four hosts with its
// generated rules; and a Ruby script reads the tree as OpenNebula's Linux Containers marketplace
// does (an endpoint ending in `/`, amd64/default products, the last version key parsed with
// `%Y%m%d_%H:%M`, the item keyed `root.tar.xz` downloaded and unpacked).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requirements } from '../support/require.js';
import { ensureTestTls, type TestTls } from '../support/tls.js';
import { freePort } from '../support/server-process.js';
import { buildForHosts, HOSTS } from '../support/hosts.js';
import { busyboxRootfs, compress, metadataYaml, put, squashfs, tarball, type MetadataOptions, type TarEntry } from '../support/images.js';
import { machineDpkgStatus } from '../support/package-dbs.js';
import { DEFAULT_CONFIG } from '../../generator/index.js';

const skip = requirements(
  ['lxc-create', 'lxc-start', 'lxc-attach', 'wget', 'sqfs2tar', 'xz', 'mksquashfs', 'nginx', 'caddy', 'ruby', 'openssl', 'update-ca-certificates'],
  {
    root: true,
  },
);

/** metadata.yaml whose LXD template writes /etc/hostname (LXC gets it filled in with the container's name). */
const withHostnameTemplate = (o: MetadataOptions) => `${metadataYaml(o)}templates:\n  /etc/hostname:\n    when: [create, copy]\n    template: hostname.tpl\n`;

async function metadataTar(o: MetadataOptions): Promise<Buffer> {
  return compress(
    await tarball([
      { name: 'metadata.yaml', content: withHostnameTemplate(o) },
      { name: 'templates/' },
      { name: 'templates/hostname.tpl', content: '{{ container.name }}\n' },
    ]),
    'xz',
  );
}

/** The three container shapes, one product (variant) each, with its own marker. */
const SHAPES = ['squashfs', 'tarball', 'unified'] as const;

describe('LXC 5 (lxc-create -t download) and an OpenNebula-style reader against a tree built with lxc: true', { skip }, () => {
  let work: string;
  let out: string;
  let serverConfig: string;
  let tls: TestTls;
  let port: number;
  const id = randomBytes(3).toString('hex');

  before(async () => {
    tls = ensureTestTls();
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-lxc-'));
    const images = path.join(work, 'images');
    const meta = (variant: string): MetadataOptions => ({
      os: 'Busybox',
      release: '1.36',
      variant,
      serial: '20261105_08:30',
      creationDate: 1794213000,
      description: `BusyBox ${variant}`,
    });
    // Each root filesystem holds a package database (this machine's dpkg status): every version
    // lists manifest items (package list, SBOM), which LXC and the OpenNebula-style reader skip.
    const rootfs = async (marker: string, prefix = ''): Promise<TarEntry[]> =>
      [...(await busyboxRootfs(marker)), { name: 'var/lib/dpkg/status', content: machineDpkgStatus() }].map((e) => ({ ...e, name: `${prefix}${e.name}` }));
    await put(`${images}/sq/lxd.tar.xz`, await metadataTar(meta('squashfs')));
    await put(`${images}/sq/rootfs.squashfs`, await squashfs(await rootfs('lxc-squashfs')));
    await put(`${images}/tb/lxd.tar.xz`, await metadataTar(meta('tarball')));
    await put(`${images}/tb/rootfs.tar.gz`, compress(await tarball([{ name: './' }, ...(await rootfs('lxc-tarball', './'))]), 'gzip'));
    await put(
      `${images}/un/image.tar.gz`,
      compress(
        await tarball([
          { name: 'metadata.yaml', content: withHostnameTemplate(meta('unified')) },
          { name: 'templates/' },
          { name: 'templates/hostname.tpl', content: '{{ container.name }}\n' },
          { name: 'rootfs/' },
          ...(await rootfs('lxc-unified', 'rootfs/')),
        ]),
        'gzip',
      ),
    );
    // A default amd64 product too, as OpenNebula's reader keeps only those.
    await put(`${images}/df/lxd.tar.xz`, await metadataTar({ ...meta('default'), description: 'BusyBox default' }));
    await put(`${images}/df/rootfs.squashfs`, await squashfs(await rootfs('lxc-default')));
    port = await freePort();
    ({ out, serverConfig } = await buildForHosts(images, work, 'lxc', port, { config: { ...DEFAULT_CONFIG, lxc: true }, site: false }));
    writeFileSync(path.join(work, 'lxc.conf'), 'lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n');
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('publishes one LXC index line per product, the newest build, pointing at the folder of both tarballs', () => {
    const index = readFileSync(path.join(out, 'meta/1.0/index-system'), 'utf8');
    const lines = index.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(';').slice(0, 5).join(';')),
      [
        'busybox;1.36;amd64;default;20261105_08:30',
        'busybox;1.36;amd64;squashfs;20261105_08:30',
        'busybox;1.36;amd64;tarball;20261105_08:30',
        'busybox;1.36;amd64;unified;20261105_08:30',
      ],
    );
    for (const l of lines) {
      const folder = l.split(';')[5]!;
      assert.match(folder, /^\/images\/.+\/$/);
      for (const f of ['meta.tar.xz', 'rootfs.tar.xz']) execFileSync('xz', ['-t', path.join(out, folder, f)]);
    }
    for (const p of ['index-system.7', 'index-user', 'index-user.7']) assert.equal(readFileSync(path.join(out, 'meta/1.0', p), 'utf8'), index);
    const products = JSON.parse(readFileSync(path.join(out, 'streams/v1/images.json'), 'utf8')) as {
      products: Record<string, { versions: Record<string, { items: Record<string, { ftype: string }> }> }>;
    };
    for (const [key, p] of Object.entries(products.products))
      for (const v of Object.values(p.versions))
        assert.ok(
          Object.values(v.items).some((i) => i.ftype === 'manifest.json'),
          `${key} lists its package list`,
        );
  });

  for (const [hostName, start] of HOSTS) {
    it(`creates, starts and attaches to a container of every shape from ${hostName}`, async (t) => {
      const server = await start(out, port, tls, serverConfig);
      t.after(() => server.stop());
      for (const shape of SHAPES) {
        const name = `ss-lxc-${id}-${shape}`;
        const create = spawnSync(
          'lxc-create',
          [
            '-f',
            path.join(work, 'lxc.conf'),
            '-t',
            'download',
            '-n',
            name,
            '--',
            '--server',
            `127.0.0.1:${port}`,
            '-d',
            'busybox',
            '-r',
            '1.36',
            '-a',
            'amd64',
            '--variant',
            shape,
            '--flush-cache',
          ],
          { encoding: 'utf8', timeout: 120_000 },
        );
        try {
          assert.equal(create.status, 0, `lxc-create (${shape}) failed:\n${create.stdout}\n${create.stderr}`);
          assert.match(create.stdout, new RegExp(`BusyBox ${shape}`), 'the create message names the image');
          execFileSync('lxc-start', ['-n', name], { stdio: 'pipe', timeout: 60_000 });
          let marker = '';
          for (let i = 0; i < 50 && !marker; i++) {
            const r = spawnSync('lxc-attach', ['-n', name, '--', '/bin/cat', '/marker'], { encoding: 'utf8', timeout: 30_000 });
            if (r.status === 0) marker = r.stdout.trim();
            else await new Promise((r) => setTimeout(r, 200));
          }
          assert.equal(marker, `lxc-${shape}`);
          // LXC filled the appended /etc/hostname template in with the container's name.
          const hostname = execFileSync('lxc-attach', ['-n', name, '--', '/bin/cat', '/etc/hostname'], { encoding: 'utf8' }).trim();
          assert.equal(hostname, name);
        } finally {
          spawnSync('lxc-stop', ['-k', '-n', name], { stdio: 'ignore' });
          spawnSync('lxc-destroy', ['-n', name], { stdio: 'ignore' });
        }
      }
    });
  }

  it("is checked by doctor as LXC reads it: the index at //meta/1.0/index-system.7 and the first line's tarballs", async (t) => {
    const start = HOSTS.find(([n]) => n.startsWith('nginx'))![1];
    const server = await start(out, port, tls, serverConfig);
    t.after(() => server.stop());
    const doctor = () => {
      const r = spawnSync(process.execPath, [path.resolve('bin/staticstreams.js'), 'doctor', `https://127.0.0.1:${port}`, '--json'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      return JSON.parse(r.stdout) as { findings: { severity: string; check: string; message: string }[] };
    };
    const lxcFindings = (r: ReturnType<typeof doctor>) => r.findings.filter((f) => f.check === 'lxc');
    assert.deepEqual(
      lxcFindings(doctor()).map((f) => [f.severity, f.message]),
      [['ok', "meta/1.0/index-system.7 lists 4 images for lxc-create -t download; the first one's tarballs answer"]],
    );
    const hidden = path.join(work, 'meta-hidden');
    renameSync(path.join(out, 'meta'), hidden);
    t.after(() => renameSync(hidden, path.join(out, 'meta')));
    assert.deepEqual(
      lxcFindings(doctor()).map((f) => [f.severity, f.message]),
      [['warning', 'meta/1.0/index-system.7 answers 404, but 4 products list LXC files']],
    );
  });

  it('is read as OpenNebula reads a marketplace: //streams/v1/images.json, the last version key, root.tar.xz unpacked', async (t) => {
    const start = HOSTS.find(([n]) => n.startsWith('nginx'))![1];
    const server = await start(out, port, tls, serverConfig);
    t.after(() => server.stop());
    const script = path.join(work, 'opennebula.rb');
    writeFileSync(
      script,
      `require 'net/http'
require 'json'
require 'time'
require 'openssl'

endpoint, ca, dest = ARGV
uri = URI(endpoint + '/streams/v1/images.json')
raise "expected a // path, got #{uri.path}" unless uri.path.start_with?('//')
http = Net::HTTP.new(uri.host, uri.port)
http.use_ssl = true
http.ca_file = ca
body = http.request(Net::HTTP::Get.new(uri.path)).body
JSON.parse(body)['products'].each do |key, product|
  distro, release, arch, variant = key.split(':')
  next unless arch == 'amd64' && variant == 'default'
  version = product['versions'].keys.last
  item = product['versions'][version]['items']['root.tar.xz']
  next unless item
  built = Time.strptime(version, '%Y%m%d_%H:%M')
  file = URI(endpoint + item['path'])
  data = http.request(Net::HTTP::Get.new(file.path)).body
  raise "size #{data.bytesize} != #{item['size']}" unless data.bytesize == item['size']
  File.binwrite(dest, data)
  puts [distro, release, version, built.utc.iso8601, item['path']].join(' ')
end
`,
    );
    const tarFile = path.join(work, 'one-root.tar.xz');
    const listed = execFileSync('ruby', [script, `https://127.0.0.1:${port}/`, tls.caCert, tarFile], { encoding: 'utf8' })
      .trim()
      .split('\n');
    assert.equal(listed.length, 1, listed.join('\n'));
    const [distro, release, version, built, itemPath] = listed[0]!.split(' ');
    assert.deepEqual([distro, release, version, built], ['Busybox', '1.36', '20261105_08:30', '2026-11-05T08:30:00Z']);
    assert.match(itemPath!, /\/rootfs\.tar\.xz$/);
    const unpacked = path.join(work, 'one-root');
    execFileSync('mkdir', ['-p', unpacked]);
    execFileSync('tar', ['--numeric-owner', '-xpJf', tarFile, '-C', unpacked]);
    assert.equal(readFileSync(path.join(unpacked, 'marker'), 'utf8'), 'lxc-default\n');
  });
});
