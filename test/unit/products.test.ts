// plan/products.ts: planning products, versions, items and aliases from hashed images (pure).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planProducts } from '../../generator/plan/products.js';
import { renderStreams } from '../../generator/render/streams.js';
import { parseConfig, DEFAULT_CONFIG } from '../../generator/index.js';
import { parseMetadata } from '../../generator/ingest/metadata.js';
import type { HashedImage } from '../../generator/ingest/model.js';
import { hashedImage } from '../support/builders.js';

describe('planning products', () => {
  it('keys products os:release:arch:variant with Debian arch names and default variant', () => {
    const { plan, problems } = planProducts([hashedImage('a'), hashedImage('b', { arch: 'aarch64', variant: 'cloud' })], DEFAULT_CONFIG);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      plan.products.map((p) => p.key),
      ['debian:12:amd64:default', 'debian:12:arm64:cloud'],
    );
    assert.deepEqual(plan.products[0]!.aliases, ['debian/12/default', 'debian/12']);
    assert.deepEqual(plan.products[1]!.aliases, ['debian/12/cloud']);
  });

  it('emits lxd.tar.xz and incus.tar.xz items with the combined hash of each rootfs type', () => {
    const sq = hashedImage('sq');
    const tarImg = hashedImage('tar', { rootfs: 'root-tarball', metaName: 'sq/lxd.tar.xz' });
    const vm = hashedImage('vm', { rootfs: 'qcow2' });
    const { plan, problems } = planProducts([sq, tarImg, vm], DEFAULT_CONFIG);
    assert.deepEqual(problems, []);
    const items = Object.fromEntries(plan.products[0]!.versions[0]!.items.map((i) => [i.key, i]));
    assert.deepEqual(Object.keys(items).sort(), [
      'disk.qcow2',
      'incus-vm.tar.xz',
      'incus.tar.xz',
      'lxd-vm.tar.xz',
      'lxd.tar.xz',
      'root.squashfs',
      'root.tar.xz',
    ]);
    assert.equal(items['lxd.tar.xz']!.ftype, 'lxd.tar.xz');
    assert.equal(items['incus.tar.xz']!.ftype, 'incus.tar.xz');
    assert.equal(items['lxd.tar.xz']!.file.path, items['incus.tar.xz']!.file.path, 'same file for both clients');
    assert.deepEqual(items['lxd.tar.xz']!.combined, {
      combined_squashfs_sha256: sq.fingerprint,
      combined_rootxz_sha256: tarImg.fingerprint,
      combined_sha256: tarImg.fingerprint,
    });
    assert.deepEqual(items['lxd-vm.tar.xz']!.combined, { 'combined_disk-kvm-img_sha256': vm.fingerprint });
    assert.equal(items['disk.qcow2']!.ftype, 'disk-kvm.img');
    assert.equal(plan.products[0]!.versions[0]!.images.length, 3);
  });

  it('puts unified images in both combined ftypes, and a unified VM in Incus only with a warning', () => {
    const u = hashedImage('u', { rootfs: 'unified' });
    const vm: HashedImage = { ...hashedImage('uvm', { rootfs: 'unified', variant: 'vm' }), type: 'virtual-machine' };
    const { plan } = planProducts([u, vm], DEFAULT_CONFIG);
    const c = plan.products[0]!.versions[0]!.items;
    assert.deepEqual(
      c.map((i) => [i.ftype, i.combinedType]),
      [
        ['incus_combined.tar.gz', 'container'],
        ['lxd_combined.tar.gz', 'container'],
      ],
    );
    const v = plan.products[1]!.versions[0]!.items;
    assert.deepEqual(
      v.map((i) => [i.ftype, i.combinedType]),
      [['incus_combined.tar.gz', 'virtual-machine']],
    );
    assert.match(plan.warnings.join('\n'), /unified virtual-machine image is published for Incus only/);
  });

  it('orders versions, and content-addresses file paths', () => {
    const { plan } = planProducts([hashedImage('new', { serial: '20260301_12:00' }), hashedImage('old', { serial: '20260101_00:00' })], DEFAULT_CONFIG);
    const p = plan.products[0]!;
    assert.deepEqual(
      p.versions.map((v) => v.key),
      ['20260101_00:00', '20260301_12:00'],
    );
    for (const f of plan.files) assert.match(f.path, new RegExp(`^images/debian/12/amd64/default/\\d{8}_\\d{4}/[a-z]+-${f.sha256.slice(0, 16)}\\.`));
  });

  it('takes requirements from requirements.* properties and omits them when empty', () => {
    const { plan } = planProducts([hashedImage('a', { props: { 'requirements.secureboot': 'false' } }), hashedImage('b', { variant: 'x' })], DEFAULT_CONFIG);
    const json = JSON.parse(renderStreams(plan).files.get(renderStreams(plan).productsPath)!) as { products: Record<string, Record<string, unknown>> };
    assert.deepEqual(json.products['debian:12:amd64:default']!.requirements, { secureboot: 'false' });
    assert.deepEqual(json.products['debian:12:amd64:default']!.lxd_requirements, { secureboot: 'false' });
    assert.ok(!('requirements' in json.products['debian:12:amd64:x']!));
    assert.ok(!('lxd_requirements' in json.products['debian:12:amd64:x']!));
  });

  it('applies config overrides: extra aliases, titles, support, requirements', () => {
    const config = parseConfig({
      products: {
        'debian:12:*:default': {
          aliases: ['debian/bookworm', 'debian/current'],
          release_title: '12 (bookworm)',
          support_eol: '2028-06-30',
          supported: true,
          requirements: { nesting: 'true' },
        },
        '*:*:*:cloud': { default_aliases: false, aliases: ['cloudy'] },
      },
    });
    const { plan, problems } = planProducts([hashedImage('a'), hashedImage('b', { arch: 'aarch64' }), hashedImage('c', { variant: 'cloud' })], config);
    assert.deepEqual(problems, []);
    const [cloud, amd, arm] = plan.products;
    assert.deepEqual(amd!.aliases, ['debian/12/default', 'debian/12', 'debian/bookworm', 'debian/current']);
    assert.deepEqual(arm!.aliases, amd!.aliases);
    assert.equal(amd!.releaseTitle, '12 (bookworm)');
    assert.equal(amd!.supportEol, '2028-06-30');
    assert.equal(amd!.supported, true);
    assert.deepEqual(amd!.requirements, { nesting: 'true' });
    assert.deepEqual(cloud!.aliases, ['cloudy']);
  });

  it('refuses duplicate fingerprints, alias clashes and two rootfs of one type in one version', () => {
    const a = hashedImage('a');
    const { problems: dup } = planProducts([a, { ...hashedImage('a2', { variant: 'x' }), fingerprint: a.fingerprint }], DEFAULT_CONFIG);
    assert.match(dup.map((p) => p.message).join('\n'), /two inputs are the same image/);

    const config = parseConfig({ products: { 'debian:12:amd64:x': { aliases: ['debian/12'] } } });
    const { problems: clash } = planProducts([hashedImage('a'), hashedImage('b', { variant: 'x' })], config);
    assert.match(clash.map((p) => p.message).join('\n'), /alias "debian\/12" is claimed by two amd64 products: debian:12:amd64:default and debian:12:amd64:x/);

    const { problems: two } = planProducts([hashedImage('a'), hashedImage('b')], DEFAULT_CONFIG);
    assert.match(two.map((p) => p.message).join('\n'), /version 20260101_00:00 would hold two squashfs images/);
  });

  it('refuses missing os/release and names that cannot go in a key or path', () => {
    const { problems } = planProducts([hashedImage('a', { os: 'my os' }), hashedImage('b', { release: 'a:b' })], DEFAULT_CONFIG);
    assert.equal(problems.length, 2);
    assert.match(problems[0]!.message, /properties.os "my os" cannot be used/);
    const noOs: HashedImage = {
      ...hashedImage('c'),
      metadata: parseMetadata(Buffer.from('architecture: x86_64\ncreation_date: 1\nproperties:\n  release: "1"\n')),
    };
    assert.match(planProducts([noOs], DEFAULT_CONFIG).problems[0]!.message, /properties.os is missing/);
  });
});
