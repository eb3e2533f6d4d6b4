// plan/previous.ts: reading a published products file back into planned products (pure).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { previousProducts } from '../../generator/plan/previous.js';
import { hex } from '../support/builders.js';
import { acceptedProductsSchema } from '../../generator/simplestreams/schema.js';

describe('reading a published products file back', () => {
  it('recovers split and unified images, their clients and types, and the catalog details', () => {
    const meta = {
      ftype: 'lxd.tar.xz',
      path: 'images/m.tar.xz',
      sha256: hex(10),
      size: 10,
      combined_squashfs_sha256: hex(11),
      'combined_disk-kvm-img_sha256': hex(12),
    };
    const products = {
      content_id: 'images',
      datatype: 'image-downloads' as const,
      format: 'products:1.0' as const,
      products: {
        'd:12:amd64:default': {
          aliases: 'd/12,d/12/default',
          arch: 'amd64',
          os: 'd',
          release: '12',
          release_title: '12',
          variant: 'default',
          requirements: { secureboot: 'false' },
          versions: {
            '20261101_1200': {
              items: {
                'lxd.tar.xz': meta,
                'incus.tar.xz': { ...meta, ftype: 'incus.tar.xz' },
                'root.squashfs': { ftype: 'squashfs', path: 'images/r.squashfs', sha256: hex(20), size: 20 },
                'disk.qcow2': { ftype: 'disk-kvm.img', path: 'images/d.qcow2', sha256: hex(21), size: 21 },
                'incus_combined.tar.gz': {
                  ftype: 'incus_combined.tar.gz',
                  path: 'images/u.tar.gz',
                  sha256: hex(30),
                  size: 30,
                  combined_type: 'virtual-machine' as const,
                },
              },
            },
          },
        },
      },
    };
    const catalog = {
      products: [{ versions: [{ images: [{ fingerprint: hex(11), created: '2026-11-01T12:34:00.000Z', description: 'from the catalog' }] }] }],
    } as never;
    const [p] = previousProducts(products, catalog, 'https://old');
    assert.deepEqual(p!.aliases, ['d/12', 'd/12/default']);
    assert.deepEqual(p!.requirements, { secureboot: 'false' });
    const images = p!.versions[0]!.images;
    assert.deepEqual(
      images.map((i) => [i.fingerprint, i.type, i.clients.join('+'), i.size]),
      [
        [hex(30), 'virtual-machine', 'incus', 30],
        [hex(11), 'container', 'incus+lxd', 30],
        [hex(12), 'virtual-machine', 'incus+lxd', 31],
      ],
    );
    assert.equal(images[1]!.description, 'from the catalog');
    assert.equal(images[1]!.created, Date.parse('2026-11-01T12:34:00Z') / 1000);
    assert.equal(images[2]!.created, Date.parse('2026-11-01T12:00:00Z') / 1000, 'no catalog entry: from the version key');
    assert.ok(p!.versions[0]!.items.every((i) => i.file.origin.kind === 'previous'));
    assert.equal(
      p!.versions[0]!.items.find((i) => i.key === 'lxd.tar.xz')!.file,
      p!.versions[0]!.items.find((i) => i.key === 'incus.tar.xz')!.file,
      'one file, two items',
    );
  });

  it('reads what clients accept but we would not write as we would: no variant → "default", a malformed support_eol left out', () => {
    const file = { ftype: 'lxd_combined.tar.gz', path: 'images/u.tar.gz', sha256: hex(20), size: 20 };
    const products = acceptedProductsSchema.parse({
      datatype: 'image-downloads',
      products: { p: { arch: 'amd64', os: 'o', release: '1', support_eol: 'soon', versions: { '20261101': { items: { u: file } } } } },
    });
    const [product] = previousProducts(products, null, 'peer');
    assert.equal(product!.variant, 'default');
    assert.equal(product!.supportEol, undefined);
    assert.equal(product!.versions[0]!.images[0]!.fingerprint, hex(20));
  });
});
