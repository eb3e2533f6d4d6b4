// Squashfs deltas with the real xdelta3: a delta item for each new version (from the product's
// previous version, also when that version's files come from the previous tree), that decodes
// to the new squashfs; kept on republish; dropped with its base; and a clear error without xdelta3.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { markerRootfs, metadataTarball, put, squashfs, type TarEntry } from '../support/images.js';
import { requirements } from '../support/require.js';
import { tempDir } from '../support/tmp.js';
import { build, type Catalog } from '../../generator/index.js';

const skip = requirements(['mksquashfs', 'xdelta3']);
const BIN = path.resolve('bin/staticstreams.js');

interface Item {
  ftype: string;
  path: string;
  sha256: string;
  size: number;
  delta_base?: string;
}
const productsOf = (out: string) => {
  const catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')) as Catalog;
  const text = readFileSync(path.join(out, catalog.streams.products), 'utf8');
  const products = JSON.parse(text) as { products: Record<string, { versions: Record<string, { items: Record<string, Item> }> }> };
  return { text, versions: Object.values(products.products)[0]!.versions };
};
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('squashfs deltas (xdelta3)', { skip }, () => {
  let shared: Buffer;
  before(() => {
    shared = randomBytes(2 * 1024 * 1024); // incompressible, the same in every version: the delta stays small
  });

  /** A runner folder with one split image (lxd.tar.xz + rootfs.squashfs) of deltaos 1. */
  async function runner(root: string, serial: string): Promise<string> {
    const dir = path.join(root, `runner-${serial}`);
    const entries: TarEntry[] = [...markerRootfs(serial), { name: 'shared.bin', content: shared }];
    await put(path.join(dir, 'lxd.tar.xz'), await metadataTarball({ os: 'deltaos', release: '1', serial }));
    await put(path.join(dir, 'rootfs.squashfs'), await squashfs(entries));
    return dir;
  }

  it('publishes a delta from the previous version that decodes to the new squashfs, and keeps it on republish', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    await build({ images: await runner(dir, '20261101_00:00'), out: live, site: false, deltas: true });
    assert.equal(
      Object.values(productsOf(live).versions['20261101_00:00']!.items).filter((i) => i.ftype === 'squashfs.vcdiff').length,
      0,
      'nothing to diff against yet',
    );

    const v2 = await runner(dir, '20261110_00:00');
    const r = spawnSync(process.execPath, [BIN, 'build', '--images', v2, '--previous', live, '--out', live, '--no-site', '--deltas', '--json'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { deltas: { base: string; version: string; size: number; of: number }[] };
    assert.equal(summary.deltas.length, 1);
    assert.equal(summary.deltas[0]!.base, '20261101_00:00');
    assert.ok(
      summary.deltas[0]!.size < summary.deltas[0]!.of / 10,
      `the delta (${summary.deltas[0]!.size} bytes) is far smaller than the squashfs (${summary.deltas[0]!.of})`,
    );

    const { versions, text } = productsOf(live);
    const items = Object.values(versions['20261110_00:00']!.items);
    const delta = items.find((i) => i.ftype === 'squashfs.vcdiff')!;
    assert.equal(delta.delta_base, '20261101_00:00');
    assert.equal(sha(path.join(live, delta.path)), delta.sha256);
    const base = Object.values(versions['20261101_00:00']!.items).find((i) => i.ftype === 'squashfs')!;
    const target = items.find((i) => i.ftype === 'squashfs')!;
    const decoded = path.join(dir, 'decoded.squashfs');
    execFileSync('xdelta3', ['-d', '-f', '-s', path.join(live, base.path), path.join(live, delta.path), decoded]);
    assert.equal(sha(decoded), target.sha256, 'base + delta = the new squashfs');
    assert.match(execFileSync(process.execPath, [BIN, 'verify', live], { encoding: 'utf8' }), /^ok: /m);

    // Publishing the same image again changes nothing, with or without --deltas.
    for (const args of [['--deltas'], []]) {
      const again = spawnSync(process.execPath, [BIN, 'build', '--images', v2, '--previous', live, '--out', live, '--no-site', ...args], { encoding: 'utf8' });
      assert.equal(again.status, 0, again.stderr);
      assert.equal(productsOf(live).text, text, `byte-identical products file (${args.join(' ') || 'no flags'})`);
    }

    // verify warns about a delta whose base is not there (clients skip it silently).
    const catalog = JSON.parse(readFileSync(path.join(live, 'catalog.json'), 'utf8')) as Catalog;
    writeFileSync(path.join(live, catalog.streams.products), text.replace('"delta_base": "20261101_00:00"', '"delta_base": "20250101_00:00"'));
    assert.match(
      execFileSync(process.execPath, [BIN, 'verify', live], { encoding: 'utf8' }),
      /warning: .*squashfs\.vcdiff.*: delta_base "20250101_00:00" is not a version of this product with a squashfs image: clients skip this delta/,
    );
  });

  it('drops a delta whose base version is dropped by retention', async (t) => {
    const dir = await tempDir(t);
    const live = path.join(dir, 'live');
    await build({ images: await runner(dir, '20261101_00:00'), out: live, site: false });
    await build({ images: await runner(dir, '20261110_00:00'), previous: live, out: live, site: false, deltas: true });
    assert.equal(Object.values(productsOf(live).versions['20261110_00:00']!.items).filter((i) => i.ftype === 'squashfs.vcdiff').length, 1);
    const pruned = await build({ previous: live, out: live, site: false, retain: 1 });
    assert.deepEqual(pruned.lifecycle.dropped, ['deltaos:1:amd64:default 20261101_00:00']);
    assert.deepEqual(
      Object.values(productsOf(live).versions['20261110_00:00']!.items)
        .map((i) => i.ftype)
        .sort(),
      ['incus.tar.xz', 'lxd.tar.xz', 'squashfs'],
    );
    assert.ok(
      pruned.lifecycle.grace.some((g) => g.path.endsWith('.squashfs.vcdiff')),
      'the delta file keeps its grace period',
    );
  });

  it('says what to install when xdelta3 is missing', async (t) => {
    const dir = await tempDir(t);
    const r = spawnSync(
      process.execPath,
      [BIN, 'build', '--images', await runner(dir, '20261101_00:00'), '--out', path.join(dir, 'out'), '--no-site', '--deltas'],
      { encoding: 'utf8', env: { ...process.env, PATH: path.join(dir, 'empty-path') } },
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /need xdelta3: install it \(Debian\/Ubuntu: apt install xdelta3\)/);
  });
});
