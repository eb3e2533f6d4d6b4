// The publishing lifecycle's pure parts: merging new versions into a published tree, retention
// (never the newest), the grace list, and reading a products file back into a plan.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeWithPrevious } from '../../generator/plan/merge.js';
import { applyRetention, carryGrace } from '../../generator/plan/retention.js';
import { previousProducts } from '../../generator/plan/previous.js';
import { versionKeyTime } from '../../generator/simplestreams/version-key.js';
import type { PlannedFile, PlannedProduct, PlannedVersion } from '../../generator/plan/products.js';
import { parseDuration } from '../../generator/util/duration.js';

const hex = (n: number) => n.toString(16).padStart(64, '0');
const DAY = 86_400;

function version(key: string, fp: number, created = versionKeyTime(key)): PlannedVersion {
  const file: PlannedFile = { origin: { kind: 'previous' }, path: `images/x/${key}/image-${hex(fp).slice(0, 16)}.tar.gz`, sha256: hex(fp), size: 100 + fp };
  return {
    key,
    items: [
      { key: 'lxd_combined.tar.gz', ftype: 'lxd_combined.tar.gz', file, combined: {} },
      { key: 'incus_combined.tar.gz', ftype: 'incus_combined.tar.gz', file, combined: {} },
    ],
    images: [
      {
        fingerprint: hex(fp),
        type: 'container',
        clients: ['incus', 'lxd'],
        size: file.size,
        files: [{ ftype: 'lxd_combined.tar.gz', file }],
        created,
        label: `fp${fp}`,
      },
    ],
  };
}

function product(key: string, versions: PlannedVersion[], aliases: string[] = []): PlannedProduct {
  const [os, release, arch, variant] = key.split(':') as [string, string, string, string];
  return { key, os, release, arch, canonicalArch: 'x86_64', variant, aliases, releaseTitle: release, requirements: {}, versions };
}

describe('merging with the previous tree', () => {
  const old = [product('a:1:amd64:default', [version('20261101_0000', 1)], ['a/1']), product('b:1:amd64:default', [version('20261101_0000', 2)], ['b/1'])];

  it('adds new versions next to the published ones and keeps untouched products', () => {
    const merged = mergeWithPrevious(old, [product('a:1:amd64:default', [version('20261110_0000', 3)], ['a/1'])], { replace: false });
    assert.deepEqual(merged.problems, []);
    assert.deepEqual(
      merged.products.map((p) => [p.key, p.versions.map((v) => v.key)]),
      [
        ['a:1:amd64:default', ['20261101_0000', '20261110_0000']],
        ['b:1:amd64:default', ['20261101_0000']],
      ],
    );
    assert.deepEqual(merged.added, ['a:1:amd64:default 20261110_0000']);
  });

  it('treats the same image published again as a no-op', () => {
    const merged = mergeWithPrevious(old, [product('a:1:amd64:default', [version('20261101_0000', 1)], ['a/1'])], { replace: false });
    assert.deepEqual(merged.problems, []);
    assert.deepEqual(merged.unchanged, ['a:1:amd64:default 20261101_0000']);
    assert.equal(merged.products[0]!.versions.length, 1);
  });

  it('refuses another image under a published version key, unless replace', () => {
    const fresh = [product('a:1:amd64:default', [version('20261101_0000', 9)], ['a/1'])];
    const refused = mergeWithPrevious(old, fresh, { replace: false });
    assert.equal(refused.problems.length, 1);
    assert.match(refused.problems[0]!.problem, /version 20261101_0000 is already published with other images/);
    assert.match(refused.problems[0]!.fix, /--replace/);
    const replaced = mergeWithPrevious(old, fresh, { replace: true });
    assert.deepEqual(replaced.problems, []);
    assert.deepEqual(replaced.replaced, ['a:1:amd64:default 20261101_0000']);
    assert.equal(replaced.products[0]!.versions[0]!.images[0]!.fingerprint, hex(9));
  });

  it('refuses a published image under a second version, and an alias another product holds', () => {
    const twice = mergeWithPrevious(old, [product('a:1:amd64:default', [version('20261110_0000', 2)], ['a/1'])], { replace: false });
    assert.match(twice.problems.map((p) => p.problem).join('\n'), /would be published twice/);
    const clash = mergeWithPrevious(old, [product('c:1:amd64:default', [version('20261110_0000', 5)], ['b/1'])], { replace: false });
    assert.match(clash.problems.map((p) => p.problem).join('\n'), /b\/1/);
  });
});

describe('retention', () => {
  const now = versionKeyTime('20261120_0000');
  const p = product('a:1:amd64:default', [version('20261001_0000', 1), version('20261101_0000', 2), version('20261110_0000', 3), version('20261119_0000', 4)]);
  const keys = (ps: PlannedProduct[]) => ps[0]!.versions.map((v) => v.key);

  it('keeps the N newest with keep, exactly N (not N+1)', () => {
    assert.deepEqual(keys(applyRetention([p], { keep: 2 }, now).products), ['20261110_0000', '20261119_0000']);
    assert.deepEqual(keys(applyRetention([p], { keep: 1 }, now).products), ['20261119_0000']);
    assert.deepEqual(
      applyRetention([p], { keep: 1 }, now)
        .dropped.map((d) => d.version)
        .sort(),
      ['20261001_0000', '20261101_0000', '20261110_0000'],
    );
  });

  it('drops versions older than the days given, counted from the clock', () => {
    assert.deepEqual(keys(applyRetention([p], { days: 15 }, now).products), ['20261110_0000', '20261119_0000']);
    assert.deepEqual(keys(applyRetention([p], { days: 15 }, now + 30 * DAY).products), ['20261119_0000'], 'never the newest, however old');
  });

  it('drops what either limit drops, and nothing without a policy', () => {
    assert.deepEqual(keys(applyRetention([p], { keep: 3, days: 15 }, now).products), ['20261110_0000', '20261119_0000']);
    assert.equal(applyRetention([p], {}, now).products[0], p);
  });
});

describe('the grace list', () => {
  const h = 3_600_000;
  const t0 = Date.parse('2026-11-20T00:00:00Z');
  const file = (path: string) => ({ path, sha256: hex(1), size: 1, reason: 'test' });

  it('adds files this run stops listing, with the time they were dropped', () => {
    const { keep, expired } = carryGrace([], [file('images/old'), file('images/old')], new Set(['images/new']), t0, 6 * h);
    assert.deepEqual(keep, [{ ...file('images/old'), since: '2026-11-20T00:00:00.000Z' }]);
    assert.deepEqual(expired, []);
  });

  it('keeps entries until the grace period is over, then lists them as expired', () => {
    const entry = { ...file('images/old'), since: new Date(t0).toISOString() };
    assert.deepEqual(carryGrace([entry], [], new Set(), t0 + 5 * h, 6 * h).keep, [entry]);
    const later = carryGrace([entry], [], new Set(), t0 + 6 * h, 6 * h);
    assert.deepEqual(later.keep, []);
    assert.deepEqual(later.expired, [entry]);
  });

  it('forgets an entry that is listed again', () => {
    const entry = { ...file('images/old'), since: new Date(t0).toISOString() };
    assert.deepEqual(carryGrace([entry], [], new Set(['images/old']), t0 + h, 6 * h), { keep: [], expired: [] });
  });
});

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
});

describe('durations and times', () => {
  it('reads 90m, 6h, 2d and ISO times, and names the flag when it cannot', () => {
    assert.equal(parseDuration('90m', '--grace'), 90 * 60_000);
    assert.equal(parseDuration('6h', '--grace'), 6 * 3_600_000);
    assert.equal(parseDuration('2d', '--grace'), 2 * 86_400_000);
    assert.throws(() => parseDuration('6 hours', '--grace'), /--grace must be a duration/);
  });
});
