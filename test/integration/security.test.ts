// The adversarial review's attacks (issue 33), each through the CLI as a user or an attacker
// would meet it: hostile image files (bombs held in memory, links leaving templates/, data after
// the tar end), hostile upstreams and servers (paths a host runs as code, endless or trickling
// bodies, HTML where JSON belongs, terminal escapes, redirects to private addresses), and races
// (stale locks, symlinked outputs). Each case failed on the code before its fix.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tempDir } from '../support/tmp.js';
import { bombTarball, metadataTarball, put, tarball } from '../support/images.js';
import { runCli, runCliPeak } from '../support/cli.js';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');

/** Peak resident memory a refused bomb may cost: Node, two workers and a bounded decoder. */
const BOMB_PEAK_MIB = 400;

describe('#2 decompression bombs are refused with bounded memory, wherever they are read', () => {
  const EXT = { gzip: 'gz', xz: 'xz', bzip2: 'bz2', zstd: 'zst' } as const;
  const bombs: [string, keyof typeof EXT, () => Promise<Buffer>][] = [
    ...(['gzip', 'xz', 'bzip2', 'zstd'] as const).map((c): [string, typeof c, () => Promise<Buffer>] => [`${c}, 4 GiB of zeros`, c, () => bombTarball(c, 64)]),
    // A zstd frame announcing a 2 GiB window (zstd -d refuses more than 128 MiB without --memory).
    [
      'zstd with a 2 GiB window',
      'zstd',
      async () => execFileSync('zstd', ['-q', '-c', '--long=31'], { input: await tarball([{ name: 'x', content: 'x'.repeat(4096) }]) }),
    ],
  ];
  for (const [name, compression, make] of bombs) {
    it(`${name}: build refuses it, peak memory bounded, nothing published`, async (t) => {
      const dir = await tempDir(t);
      const bomb = await make();
      await put(path.join(dir, 'images/bomb/lxd.tar.xz'), await metadataTarball({ os: 'bomb', release: '1', serial: '20261101_0000' }));
      await put(path.join(dir, `images/bomb/rootfs.tar.${EXT[compression]}`), bomb);
      const r = await runCliPeak(['build', '--no-site', '--no-cache', '-q', '--out', 'out'], { cwd: dir, timeoutMs: 60_000 });
      t.diagnostic(`${name}: ${bomb.length} bytes, exit ${r.status}, peak ${r.peakMiB} MiB, ${r.ms} ms`);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /rootfs\.tar\.\w+: .*(refused as a decompression bomb|window)/);
      noStack(r.stderr);
      assert.ok(r.peakMiB < BOMB_PEAK_MIB, `peak ${r.peakMiB} MiB < ${BOMB_PEAK_MIB} MiB`);
      assert.ok(r.ms < 30_000, `refused in ${r.ms} ms: the decoder stops at the refusal`);
    });
  }

  it('a root tarball over 1 MiB expanding 300× past 64 MiB is refused (the README promise, not 1000× past 4 GiB)', async (t) => {
    const dir = await tempDir(t);
    // 1.2 MB of noise, then 9 × 64 MiB of zeros: ~1.8 MB expanding ~330× (a whole, valid tarball).
    const noise = await tarball([{ name: 'noise', content: randomBytes(1_200_000) }]);
    const bomb = await bombTarball('gzip', 9, noise.subarray(0, noise.length - 1024));
    await put(path.join(dir, 'images/big/lxd.tar.xz'), await metadataTarball({ os: 'big', release: '1', serial: '20261101_0000' }));
    await put(path.join(dir, 'images/big/rootfs.tar.gz'), bomb);
    const r = await runCli(['build', '--no-site', '--no-cache', '-q', '--out', 'out'], { cwd: dir });
    t.diagnostic(`${bomb.length} bytes`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /expands more than 200× \(\d+ bytes from \d+\): refused as a decompression bomb/);
  });
});
